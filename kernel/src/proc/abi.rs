//! The `atoll` import module (see `user/ABI.md`): processes, channels,
//! handles, time and logging. Every call returns a WASI errno; every guest
//! pointer is checked against the caller's memory (`EFAULT`, nothing
//! written). A process that is killed while blocked in a call ends there.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use ipc::{Channel, ChannelError, HandleTable};
use wasm_engine::{Caller, Error, Extern, Linker};

use super::{ProcRef, ProcState, SpawnError, SpawnRequest, StatusKind};
use crate::sched::{thread, thread::WaitQueue, timer};

pub const MODULE: &str = "atoll";

// Errnos (WASI numbering).
const E2BIG: i32 = 1;
const EAGAIN: i32 = 6;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const EMSGSIZE: i32 = 35;
const ENOENT: i32 = 44;
const ENOEXEC: i32 = 45;
const ENOMEM: i32 = 48;
const EPERM: i32 = 63;
const EPIPE: i32 = 64;
const ESRCH: i32 = 71;

/// Size of a `spawn` request (13 `u32`).
const SPAWN_REQUEST_LEN: u32 = 52;
const SPAWN_STDIO_NULL: u32 = 1;
/// Size of a `process_list` record.
const PROC_RECORD_LEN: usize = 48;

/// A kernel object a handle names.
pub enum Object {
    Process(ProcRef),
    Channel(ChannelEnd),
}

/// One end of a channel, owned by a handle; dropping it closes the end.
pub struct ChannelEnd(ChannelRef);

/// A reference to a channel end that does not own it (for one call).
#[derive(Clone)]
pub struct ChannelRef {
    shared: Arc<ChannelShared>,
    end: usize,
}

impl core::ops::Deref for ChannelEnd {
    type Target = ChannelRef;
    fn deref(&self) -> &ChannelRef {
        &self.0
    }
}

struct ChannelShared {
    chan: spin::Mutex<Channel>,
    /// Both directions' waiters: woken on every change.
    changed: WaitQueue,
}

impl Drop for ChannelEnd {
    fn drop(&mut self) {
        self.0.shared.chan.lock().close(self.0.end);
        self.0.shared.changed.wake_all();
    }
}

/// A new channel's two ends.
pub fn channel() -> (ChannelEnd, ChannelEnd) {
    let shared = Arc::new(ChannelShared {
        chan: spin::Mutex::new(Channel::new()),
        changed: WaitQueue::new(),
    });
    (
        ChannelEnd(ChannelRef {
            shared: shared.clone(),
            end: 0,
        }),
        ChannelEnd(ChannelRef { shared, end: 1 }),
    )
}

/// Why a blocking channel operation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChanErr {
    Again,
    Pipe,
    MsgSize(usize),
    /// The calling process was killed while waiting.
    Killed,
}

impl ChannelRef {
    pub fn send(&self, msg: &[u8], nonblocking: bool) -> Result<(), ChanErr> {
        loop {
            let r = self.shared.chan.lock().send(self.end, msg);
            match r {
                Ok(()) => {
                    self.shared.changed.wake_all();
                    return Ok(());
                }
                Err(ChannelError::TooBig(n)) => return Err(ChanErr::MsgSize(n)),
                Err(ChannelError::PeerClosed) => return Err(ChanErr::Pipe),
                Err(ChannelError::WouldBlock) if nonblocking => return Err(ChanErr::Again),
                Err(ChannelError::WouldBlock) => {
                    self.shared.changed.wait_until(
                        || self.shared.chan.lock().can_send(self.end),
                        None,
                        super::current_killed,
                    );
                    if super::current_killed() {
                        return Err(ChanErr::Killed);
                    }
                }
            }
        }
    }

    pub fn recv(&self, max: usize, nonblocking: bool) -> Result<Vec<u8>, ChanErr> {
        loop {
            let r = self.shared.chan.lock().recv(self.end, max);
            match r {
                Ok(m) => {
                    self.shared.changed.wake_all();
                    return Ok(m);
                }
                Err(ChannelError::TooBig(n)) => return Err(ChanErr::MsgSize(n)),
                Err(ChannelError::PeerClosed) => return Err(ChanErr::Pipe),
                Err(ChannelError::WouldBlock) if nonblocking => return Err(ChanErr::Again),
                Err(ChannelError::WouldBlock) => {
                    self.shared.changed.wait_until(
                        || self.shared.chan.lock().can_recv(self.end),
                        None,
                        super::current_killed,
                    );
                    if super::current_killed() {
                        return Err(ChanErr::Killed);
                    }
                }
            }
        }
    }
}

/// The error that ends a killed process's call (its status says killed).
fn killed() -> Error {
    Error::Host(String::from("process killed"))
}

// ---- guest memory ----

fn memory<'a>(caller: &'a mut Caller<'_, ProcState>) -> &'a mut [u8] {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => m.data_mut(caller),
        _ => &mut [],
    }
}

fn range(mem_len: usize, ptr: i32, len: u32) -> Result<core::ops::Range<usize>, i32> {
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as usize).ok_or(EFAULT)?;
    if end > mem_len {
        return Err(EFAULT);
    }
    Ok(start..end)
}

fn read_bytes(caller: &mut Caller<'_, ProcState>, ptr: i32, len: u32) -> Result<Vec<u8>, i32> {
    let mem = memory(caller);
    let r = range(mem.len(), ptr, len)?;
    Ok(mem[r].to_vec())
}

fn check(caller: &mut Caller<'_, ProcState>, ptr: i32, len: u32) -> Result<(), i32> {
    let mem = memory(caller);
    range(mem.len(), ptr, len).map(|_| ())
}

fn write_bytes(caller: &mut Caller<'_, ProcState>, ptr: i32, data: &[u8]) -> Result<(), i32> {
    let mem = memory(caller);
    let r = range(mem.len(), ptr, data.len() as u32)?;
    mem[r].copy_from_slice(data);
    Ok(())
}

fn write_u32(caller: &mut Caller<'_, ProcState>, ptr: i32, v: u32) -> Result<(), i32> {
    write_bytes(caller, ptr, &v.to_le_bytes())
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// Parses a string list (`"a\0bc\0"`).
fn string_list(bytes: &[u8]) -> Result<Vec<String>, i32> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let Some(body) = bytes.strip_suffix(&[0]) else {
        return Err(EINVAL);
    };
    body.split(|&b| b == 0)
        .map(|s| {
            core::str::from_utf8(s)
                .map(String::from)
                .map_err(|_| EINVAL)
        })
        .collect()
}

/// Turns an errno result into the call's return value.
fn errno(r: Result<(), i32>) -> Result<i32, Error> {
    Ok(r.err().unwrap_or(0))
}

// ---- the calls ----

pub fn add_to_linker(l: &mut Linker<ProcState>) -> Result<(), Error> {
    l.func_wrap(
        MODULE,
        "spawn",
        |mut c: Caller<'_, ProcState>, req: i32, out: i32| errno(spawn(&mut c, req, out)),
    )?;
    l.func_wrap(
        MODULE,
        "wait",
        |mut c: Caller<'_, ProcState>, h: i32, nonblocking: i32, out: i32| match wait(
            &mut c,
            h,
            nonblocking != 0,
            out,
        ) {
            Err(None) => Err(killed()),
            Err(Some(e)) => Ok(e),
            Ok(()) => Ok(0),
        },
    )?;
    l.func_wrap(
        MODULE,
        "trap_message",
        |mut c: Caller<'_, ProcState>, h: i32, buf: i32, buf_len: i32, out_len: i32| {
            errno(trap_message(&mut c, h, buf, buf_len, out_len))
        },
    )?;
    l.func_wrap(MODULE, "kill", |c: Caller<'_, ProcState>, pid: i32| {
        let me = c.data().proc.pid;
        let pid = pid as u32;
        Ok::<i32, Error>(if super::get(pid).is_none() {
            ESRCH
        } else if !super::is_descendant(pid, me) {
            EPERM
        } else if super::kill(pid).is_err() {
            ESRCH
        } else {
            0
        })
    })?;
    l.func_wrap(
        MODULE,
        "process_list",
        |mut c: Caller<'_, ProcState>, buf: i32, buf_len: i32, out_count: i32| {
            errno(process_list(&mut c, buf, buf_len, out_count))
        },
    )?;
    l.func_wrap(MODULE, "getpid", |c: Caller<'_, ProcState>| {
        c.data().proc.pid as i32
    })?;
    l.func_wrap(
        MODULE,
        "set_foreground",
        |c: Caller<'_, ProcState>, pid: i32| {
            if !c
                .data()
                .proc
                .owns_console
                .load(core::sync::atomic::Ordering::Acquire)
            {
                return EPERM;
            }
            if pid != 0 && super::get(pid as u32).is_none() {
                return ESRCH;
            }
            super::set_foreground(pid as u32);
            0
        },
    )?;
    l.func_wrap(MODULE, "shutdown", |c: Caller<'_, ProcState>, code: i32| {
        if c.data().proc.pid != 1 {
            return EPERM;
        }
        crate::power_off_with_code(code as u32);
    })?;
    l.func_wrap(
        MODULE,
        "exec_begin",
        |c: Caller<'_, ProcState>, run: i32| {
            if c.data().proc.pid != 1 {
                return EPERM;
            }
            match crate::hostlink::begin(run as u32) {
                Ok(()) => 0,
                Err(()) => ENOENT,
            }
        },
    )?;
    l.func_wrap(MODULE, "exec_end", |c: Caller<'_, ProcState>, code: i32| {
        if c.data().proc.pid != 1 {
            return EPERM;
        }
        match crate::hostlink::end(code as u32) {
            Ok(()) => 0,
            Err(()) => ENOENT,
        }
    })?;
    l.func_wrap(
        MODULE,
        "channel_create",
        |mut c: Caller<'_, ProcState>, out_a: i32, out_b: i32| {
            errno(channel_create(&mut c, out_a, out_b))
        },
    )?;
    l.func_wrap(
        MODULE,
        "channel_send",
        |mut c: Caller<'_, ProcState>, h: i32, buf: i32, len: i32, nonblocking: i32| {
            match channel_send(&mut c, h, buf, len, nonblocking != 0) {
                Err(None) => Err(killed()),
                Err(Some(e)) => Ok(e),
                Ok(()) => Ok(0),
            }
        },
    )?;
    l.func_wrap(
        MODULE,
        "channel_recv",
        |mut c: Caller<'_, ProcState>,
         h: i32,
         buf: i32,
         buf_len: i32,
         nonblocking: i32,
         out_len: i32| {
            match channel_recv(&mut c, h, buf, buf_len, nonblocking != 0, out_len) {
                Err(None) => Err(killed()),
                Err(Some(e)) => Ok(e),
                Ok(()) => Ok(0),
            }
        },
    )?;
    l.func_wrap(
        MODULE,
        "handle_close",
        |mut c: Caller<'_, ProcState>, h: i32| match c.data_mut().handles.remove(h as u32) {
            Some(obj) => {
                drop(obj);
                0
            }
            None => EBADF,
        },
    )?;
    l.func_wrap(MODULE, "clock_ns", || timer::now_ns() as i64)?;
    l.func_wrap(MODULE, "sleep_ns", |ns: i64| {
        if ns < 0 {
            return Ok(EINVAL);
        }
        thread::sleep_until(timer::now_ns().saturating_add(ns as u64));
        if super::current_killed() {
            return Err(killed());
        }
        Ok(0)
    })?;
    l.func_wrap(
        MODULE,
        "log",
        |mut c: Caller<'_, ProcState>, level: i32, msg: i32, len: i32| {
            errno(log(&mut c, level, msg, len))
        },
    )?;
    Ok(())
}

fn spawn(c: &mut Caller<'_, ProcState>, req_ptr: i32, out: i32) -> Result<(), i32> {
    let req = read_bytes(c, req_ptr, SPAWN_REQUEST_LEN)?;
    check(c, out, 4)?;
    let field = |i: usize| u32_at(&req, i * 4);
    if field(11) != 0 || field(12) != 0 || field(10) & !SPAWN_STDIO_NULL != 0 {
        return Err(EINVAL);
    }
    let path_bytes = read_bytes(c, field(0) as i32, field(1))?;
    let argv = string_list(&read_bytes(c, field(2) as i32, field(3))?)?;
    let env = string_list(&read_bytes(c, field(4) as i32, field(5))?)?;
    let preopens = string_list(&read_bytes(c, field(6) as i32, field(7))?)?;
    let nhandles = field(9);
    if nhandles > ipc::MAX_HANDLES as u32 {
        return Err(E2BIG);
    }
    let hbytes = read_bytes(c, field(8) as i32, nhandles.checked_mul(4).ok_or(EFAULT)?)?;
    let moved: Vec<u32> = (0..nhandles as usize)
        .map(|i| u32_at(&hbytes, i * 4))
        .collect();
    let flags = field(10);

    let path = core::str::from_utf8(&path_bytes).map_err(|_| EINVAL)?;
    if path.is_empty() {
        return Err(ENOENT);
    }
    let path = resolve_program(path);
    let Some(wasm) = crate::initrd::lookup(path.trim_start_matches('/')) else {
        return Err(ENOENT);
    };
    let preopens = preopens
        .iter()
        .map(|p| match p.split_once("::") {
            Some((path, name)) => (String::from(path), String::from(name)),
            None => (p.clone(), p.clone()),
        })
        .collect();
    let handles = c.data_mut().handles.take_all(&moved).ok_or(EBADF)?;
    let owns_console = flags & SPAWN_STDIO_NULL == 0
        && c.data()
            .proc
            .owns_console
            .load(core::sync::atomic::Ordering::Acquire);
    let r = super::spawn(SpawnRequest {
        name: program_name(&path),
        wasm,
        args: argv,
        env,
        preopens,
        handles,
        stdio: if flags & SPAWN_STDIO_NULL != 0 {
            super::Stdio::Null
        } else {
            c.data().proc.stdio
        },
        owns_console,
    });
    let child = match r {
        Ok(p) => p,
        Err(e) => {
            crate::info!("spawn {path}: {e}");
            return Err(match e {
                SpawnError::NoExec(_) => ENOEXEC,
                SpawnError::NoMem(_) => ENOMEM,
                SpawnError::NoEnt(_) => ENOENT,
            });
        }
    };
    let h = c
        .data_mut()
        .handles
        .insert(Object::Process(child))
        .ok_or(ENOMEM)?;
    write_u32(c, out, h)
}

/// `name` → `/bin/name.wasm`; paths stay as they are.
pub fn resolve_program(path: &str) -> String {
    if path.contains('/') {
        String::from(path)
    } else {
        alloc::format!("/bin/{path}.wasm")
    }
}

/// `/bin/hello.wasm` → `hello`.
pub fn program_name(path: &str) -> &str {
    let base = path.rsplit('/').next().unwrap_or(path);
    base.strip_suffix(".wasm").unwrap_or(base)
}

fn process_of(c: &Caller<'_, ProcState>, h: i32) -> Result<Arc<super::Process>, i32> {
    match c.data().handles.get(h as u32) {
        Some(Object::Process(p)) => Ok(Arc::clone(p)),
        _ => Err(EBADF),
    }
}

/// `Err(None)`: the caller was killed while waiting.
fn wait(
    c: &mut Caller<'_, ProcState>,
    h: i32,
    nonblocking: bool,
    out: i32,
) -> Result<(), Option<i32>> {
    let p = process_of(c, h).map_err(Some)?;
    check(c, out, 16).map_err(Some)?;
    let status = if nonblocking {
        p.status().ok_or(Some(EAGAIN))?
    } else {
        p.wait().ok_or(None)?
    };
    let mut rec = [0u8; 16];
    rec[0..4].copy_from_slice(&(status.kind as u32).to_le_bytes());
    rec[4..8].copy_from_slice(&status.code.to_le_bytes());
    rec[8..12].copy_from_slice(&p.pid.to_le_bytes());
    write_bytes(c, out, &rec).map_err(Some)
}

fn trap_message(
    c: &mut Caller<'_, ProcState>,
    h: i32,
    buf: i32,
    buf_len: i32,
    out_len: i32,
) -> Result<(), i32> {
    let p = process_of(c, h)?;
    check(c, buf, buf_len as u32)?;
    check(c, out_len, 4)?;
    let msg = match (p.status(), p.trap_message()) {
        (Some(s), Some(m)) if s.kind == StatusKind::Trapped => m,
        _ => return Err(EINVAL),
    };
    let n = msg.len().min(buf_len as u32 as usize);
    write_bytes(c, buf, &msg.as_bytes()[..n])?;
    write_u32(c, out_len, msg.len() as u32)
}

fn process_list(
    c: &mut Caller<'_, ProcState>,
    buf: i32,
    buf_len: i32,
    out_count: i32,
) -> Result<(), i32> {
    check(c, buf, buf_len as u32)?;
    check(c, out_count, 4)?;
    let procs = super::list();
    let fit = buf_len as u32 as usize / PROC_RECORD_LEN;
    let mut out = Vec::with_capacity(fit.min(procs.len()) * PROC_RECORD_LEN);
    for p in procs.iter().take(fit) {
        let mut rec = [0u8; PROC_RECORD_LEN];
        rec[0..4].copy_from_slice(&p.pid.to_le_bytes());
        rec[4..8].copy_from_slice(&p.parent.to_le_bytes());
        rec[8..12].copy_from_slice(&(p.run_state() as u32).to_le_bytes());
        rec[12..16].copy_from_slice(&(p.hart() as u32).to_le_bytes());
        rec[16..24].copy_from_slice(&p.cpu_ns().to_le_bytes());
        let name = p.name.as_bytes();
        let n = name.len().min(24);
        rec[24..24 + n].copy_from_slice(&name[..n]);
        out.extend_from_slice(&rec);
    }
    write_bytes(c, buf, &out)?;
    write_u32(c, out_count, procs.len() as u32)
}

fn channel_create(c: &mut Caller<'_, ProcState>, out_a: i32, out_b: i32) -> Result<(), i32> {
    check(c, out_a, 4)?;
    check(c, out_b, 4)?;
    let (a, b) = channel();
    let handles: &mut HandleTable<Object> = &mut c.data_mut().handles;
    let ha = handles.insert(Object::Channel(a)).ok_or(ENOMEM)?;
    let Some(hb) = handles.insert(Object::Channel(b)) else {
        handles.remove(ha);
        return Err(ENOMEM);
    };
    write_u32(c, out_a, ha)?;
    write_u32(c, out_b, hb)
}

fn channel_of(c: &Caller<'_, ProcState>, h: i32) -> Result<ChannelRef, i32> {
    match c.data().handles.get(h as u32) {
        Some(Object::Channel(e)) => Ok(ChannelRef::clone(e)),
        _ => Err(EBADF),
    }
}

fn chan_errno(e: ChanErr) -> Option<i32> {
    match e {
        ChanErr::Again => Some(EAGAIN),
        ChanErr::Pipe => Some(EPIPE),
        ChanErr::MsgSize(_) => Some(EMSGSIZE),
        ChanErr::Killed => None,
    }
}

fn channel_send(
    c: &mut Caller<'_, ProcState>,
    h: i32,
    buf: i32,
    len: i32,
    nonblocking: bool,
) -> Result<(), Option<i32>> {
    let end = channel_of(c, h).map_err(Some)?;
    if len as u32 as usize > ipc::MAX_MESSAGE {
        return Err(Some(EMSGSIZE));
    }
    let msg = read_bytes(c, buf, len as u32).map_err(Some)?;
    end.send(&msg, nonblocking).map_err(chan_errno)
}

fn channel_recv(
    c: &mut Caller<'_, ProcState>,
    h: i32,
    buf: i32,
    buf_len: i32,
    nonblocking: bool,
    out_len: i32,
) -> Result<(), Option<i32>> {
    let end = channel_of(c, h).map_err(Some)?;
    check(c, buf, buf_len as u32).map_err(Some)?;
    check(c, out_len, 4).map_err(Some)?;
    match end.recv(buf_len as u32 as usize, nonblocking) {
        Ok(m) => {
            write_bytes(c, buf, &m).map_err(Some)?;
            write_u32(c, out_len, m.len() as u32).map_err(Some)
        }
        Err(ChanErr::MsgSize(n)) => {
            write_u32(c, out_len, n as u32).map_err(Some)?;
            Err(Some(EMSGSIZE))
        }
        Err(e) => Err(chan_errno(e)),
    }
}

fn log(c: &mut Caller<'_, ProcState>, level: i32, msg: i32, len: i32) -> Result<(), i32> {
    let bytes = read_bytes(c, msg, len as u32)?;
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_end_matches('\n');
    let p = &c.data().proc;
    let (name, pid) = (p.name.to_string(), p.pid);
    match level {
        0 => crate::error!("{name}[{pid}]: {text}"),
        1 => crate::warn!("{name}[{pid}]: {text}"),
        2 => crate::info!("{name}[{pid}]: {text}"),
        3 => crate::debug!("{name}[{pid}]: {text}"),
        4 => crate::trace!("{name}[{pid}]: {text}"),
        _ => return Err(EINVAL),
    }
    Ok(())
}
