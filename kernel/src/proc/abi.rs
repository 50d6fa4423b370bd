//! The `atoll` import module, implemented from its one definition in
//! `libs/kernel/atoll-abi` (function list, errnos, records; semantics in
//! `user/ABI.md`): processes, channels, handles, time and logging. Every call
//! returns a WASI errno; every guest pointer is checked against the caller's
//! memory through WASI's accessor (`EFAULT`, nothing written). A process that
//! is killed while blocked in a call ends there.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use atoll_abi::records::{
    self, ProcessRecord, SPAWN_SERVE, SPAWN_STDIO_NULL, SpawnRequest as RawSpawn,
};
use atoll_abi::{Errno, MODULE};
use ipc::HandleTable;
use wasi_p1::GuestMemory;
use wasi_p1::calls::Fail;
use wasm_engine::{Caller, Error, Extern, Linker};

use super::channel::{ChanErr, ChannelEnd, ChannelRef, channel};
use super::{ProcRef, ProcState, SpawnError, SpawnRequest, StatusKind};
use crate::sched::{thread, timer};

/// A kernel object a handle names.
pub enum Object {
    Process(ProcRef),
    Channel(ChannelEnd),
}

/// The error that ends a killed process's call (its status says killed).
pub(super) fn killed() -> Error {
    Error::Host(String::from("process killed"))
}

// ---- guest memory ----

/// Runs `f` over the caller's memory through WASI's checked accessor; a range
/// outside memory is `EFAULT` here (the atoll ABI returns it, nothing is
/// written).
fn with_memory<R>(
    caller: &mut Caller<'_, ProcState>,
    f: impl FnOnce(&mut GuestMemory<'_>) -> Result<R, Fail>,
) -> Result<R, Errno> {
    let bytes = match caller.get_export("memory") {
        Some(Extern::Memory(m)) => m.data_mut(caller),
        _ => &mut [],
    };
    f(&mut GuestMemory::new(bytes)).map_err(|e| match e {
        Fail::Errno(e) => e,
        Fail::Exit(_) | Fail::HostError(_) => Errno::Fault,
    })
}

fn read_bytes(c: &mut Caller<'_, ProcState>, ptr: i32, len: u32) -> Result<Vec<u8>, Errno> {
    with_memory(c, |m| m.slice(ptr as u32, len).map(<[u8]>::to_vec))
}

fn check(c: &mut Caller<'_, ProcState>, ptr: i32, len: u32) -> Result<(), Errno> {
    with_memory(c, |m| m.check(ptr as u32, len))
}

fn write_bytes(c: &mut Caller<'_, ProcState>, ptr: i32, data: &[u8]) -> Result<(), Errno> {
    with_memory(c, |m| m.write_bytes(ptr as u32, data))
}

fn write_u32(c: &mut Caller<'_, ProcState>, ptr: i32, v: u32) -> Result<(), Errno> {
    write_bytes(c, ptr, &v.to_le_bytes())
}

/// Parses a string list (`"a\0bc\0"`).
fn string_list(bytes: &[u8]) -> Result<Vec<String>, Errno> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let Some(body) = bytes.strip_suffix(&[0]) else {
        return Err(Errno::Inval);
    };
    body.split(|&b| b == 0)
        .map(|s| {
            core::str::from_utf8(s)
                .map(String::from)
                .map_err(|_| Errno::Inval)
        })
        .collect()
}

/// Turns an errno result into the call's return value.
fn errno(r: Result<(), Errno>) -> Result<i32, Error> {
    Ok(r.err().map_or(0, |e| e as i32))
}

/// The same for a call that may end because the caller was killed (`None`).
fn errno_or_killed(r: Result<(), Option<Errno>>) -> Result<i32, Error> {
    match r {
        Err(None) => Err(killed()),
        Err(Some(e)) => Ok(e as i32),
        Ok(()) => Ok(0),
    }
}

// ---- the calls ----

/// Registers every function of [`atoll_abi::FUNCTIONS`].
pub fn add_to_linker(l: &mut Linker<ProcState>) -> Result<(), Error> {
    l.func_wrap(
        MODULE,
        "spawn",
        |mut c: Caller<'_, ProcState>, req: i32, out: i32| errno(spawn(&mut c, req, out)),
    )?;
    l.func_wrap(
        MODULE,
        "wait",
        |mut c: Caller<'_, ProcState>, h: i32, nonblocking: i32, out: i32| {
            errno_or_killed(wait(&mut c, h, nonblocking != 0, out))
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
            Errno::Srch as i32
        } else if !super::is_descendant(pid, me) {
            Errno::Perm as i32
        } else if super::kill(pid).is_err() {
            Errno::Srch as i32
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
                return Errno::Perm as i32;
            }
            if pid != 0 && super::get(pid as u32).is_none() {
                return Errno::Srch as i32;
            }
            super::set_foreground(pid as u32);
            0
        },
    )?;
    l.func_wrap(MODULE, "shutdown", |c: Caller<'_, ProcState>, code: i32| {
        if c.data().proc.pid != 1 {
            return Errno::Perm as i32;
        }
        crate::power_off_with_code(code as u32);
    })?;
    l.func_wrap(
        MODULE,
        "exec_begin",
        |c: Caller<'_, ProcState>, run: i32| {
            if c.data().proc.pid != 1 {
                return Errno::Perm as i32;
            }
            match crate::hostlink::begin(run as u32) {
                Ok(()) => 0,
                Err(()) => Errno::Noent as i32,
            }
        },
    )?;
    l.func_wrap(MODULE, "exec_end", |c: Caller<'_, ProcState>, code: i32| {
        if c.data().proc.pid != 1 {
            return Errno::Perm as i32;
        }
        match crate::hostlink::end(code as u32) {
            Ok(()) => 0,
            Err(()) => Errno::Noent as i32,
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
            errno_or_killed(channel_send(&mut c, h, buf, len, nonblocking != 0))
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
            errno_or_killed(channel_recv(
                &mut c,
                h,
                buf,
                buf_len,
                nonblocking != 0,
                out_len,
            ))
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
            None => Errno::Badf as i32,
        },
    )?;
    l.func_wrap(MODULE, "clock_ns", || timer::now_ns() as i64)?;
    l.func_wrap(MODULE, "sleep_ns", |ns: i64| {
        if ns < 0 {
            return Ok(Errno::Inval as i32);
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

fn spawn(c: &mut Caller<'_, ProcState>, req_ptr: i32, out: i32) -> Result<(), Errno> {
    let req = with_memory(c, |m| {
        let raw = m.slice(req_ptr as u32, RawSpawn::SIZE as u32)?;
        let raw = <&[u8; RawSpawn::SIZE]>::try_from(raw).map_err(|_| Fail::Errno(Errno::Fault))?;
        Ok(RawSpawn::decode(raw))
    })?;
    check(c, out, 4)?;
    if req.flags & !(SPAWN_STDIO_NULL | SPAWN_SERVE) != 0 {
        return Err(Errno::Inval);
    }
    let path_bytes = read_bytes(c, req.path_ptr as i32, req.path_len)?;
    let argv = string_list(&read_bytes(c, req.argv_ptr as i32, req.argv_len)?)?;
    let env = string_list(&read_bytes(c, req.env_ptr as i32, req.env_len)?)?;
    let preopens = string_list(&read_bytes(c, req.preopens_ptr as i32, req.preopens_len)?)?;
    let entry = match read_bytes(c, req.invoke_ptr as i32, req.invoke_len)? {
        _ if req.flags & SPAWN_SERVE != 0 => super::invoke::Request::Serve,
        name if name.is_empty() => super::invoke::Request::Command,
        name => super::invoke::Request::Invoke(String::from_utf8(name).map_err(|_| Errno::Inval)?),
    };
    let nhandles = req.handles_count;
    if nhandles > atoll_abi::MAX_HANDLES as u32 {
        return Err(Errno::TooBig);
    }
    let moved: Vec<u32> = with_memory(c, |m| {
        let n = nhandles.checked_mul(4).ok_or(Fail::Errno(Errno::Fault))?;
        let raw = m.slice(req.handles_ptr, n)?;
        Ok(raw
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
            .collect())
    })?;
    let flags = req.flags;

    let path = core::str::from_utf8(&path_bytes).map_err(|_| Errno::Inval)?;
    if path.is_empty() {
        return Err(Errno::Noent);
    }
    let path = resolve_program(path);
    let Some(wasm) = crate::initrd::lookup(path.trim_start_matches('/')) else {
        return Err(Errno::Noent);
    };
    let preopens = preopens
        .iter()
        .map(|p| match p.split_once("::") {
            Some((path, name)) => (String::from(path), String::from(name)),
            None => (p.clone(), p.clone()),
        })
        .collect();
    let handles = c.data_mut().handles.take_all(&moved).ok_or(Errno::Badf)?;
    let owns_console = flags & SPAWN_STDIO_NULL == 0
        && c.data()
            .proc
            .owns_console
            .load(core::sync::atomic::Ordering::Acquire);
    let r = super::spawn(SpawnRequest {
        name: program_name(&path),
        wasm,
        image_path: Some(path.trim_start_matches('/')),
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
        entry,
    });
    let child = match r {
        Ok(p) => p,
        Err(e) => {
            crate::info!("spawn {path}: {e}");
            return Err(match e {
                SpawnError::NoExec(_) => Errno::Noexec,
                SpawnError::NoMem(_) => Errno::Nomem,
                SpawnError::NoEnt(_) => Errno::Noent,
            });
        }
    };
    let h = c
        .data_mut()
        .handles
        .insert(Object::Process(child))
        .ok_or(Errno::Nomem)?;
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

fn process_of(c: &Caller<'_, ProcState>, h: i32) -> Result<Arc<super::Process>, Errno> {
    match c.data().handles.get(h as u32) {
        Some(Object::Process(p)) => Ok(Arc::clone(p)),
        _ => Err(Errno::Badf),
    }
}

/// `Err(None)`: the caller was killed while waiting.
fn wait(
    c: &mut Caller<'_, ProcState>,
    h: i32,
    nonblocking: bool,
    out: i32,
) -> Result<(), Option<Errno>> {
    let p = process_of(c, h).map_err(Some)?;
    check(c, out, records::Status::SIZE as u32).map_err(Some)?;
    let status = if nonblocking {
        p.status().ok_or(Some(Errno::Again))?
    } else {
        p.wait().ok_or(None)?
    };
    let rec = records::Status {
        kind: status.kind as u32,
        code: status.code,
        pid: p.pid,
        reserved: 0,
    };
    write_bytes(c, out, &rec.encode()).map_err(Some)
}

fn trap_message(
    c: &mut Caller<'_, ProcState>,
    h: i32,
    buf: i32,
    buf_len: i32,
    out_len: i32,
) -> Result<(), Errno> {
    let p = process_of(c, h)?;
    check(c, buf, buf_len as u32)?;
    check(c, out_len, 4)?;
    let msg = match (p.status(), p.trap_message()) {
        (Some(s), Some(m)) if s.kind == StatusKind::Trapped => m,
        _ => return Err(Errno::Inval),
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
) -> Result<(), Errno> {
    check(c, buf, buf_len as u32)?;
    check(c, out_count, 4)?;
    let procs = super::list();
    let fit = buf_len as u32 as usize / ProcessRecord::SIZE;
    let mut out = Vec::with_capacity(fit.min(procs.len()) * ProcessRecord::SIZE);
    for p in procs.iter().take(fit) {
        let rec = ProcessRecord::new(
            p.pid,
            p.parent,
            p.run_state() as u32,
            p.hart() as u32,
            p.cpu_ns(),
            &p.name,
        );
        out.extend_from_slice(&rec.encode());
    }
    write_bytes(c, buf, &out)?;
    write_u32(c, out_count, procs.len() as u32)
}

fn channel_create(c: &mut Caller<'_, ProcState>, out_a: i32, out_b: i32) -> Result<(), Errno> {
    check(c, out_a, 4)?;
    check(c, out_b, 4)?;
    let (a, b) = channel();
    let handles: &mut HandleTable<Object> = &mut c.data_mut().handles;
    let ha = handles.insert(Object::Channel(a)).ok_or(Errno::Nomem)?;
    let Some(hb) = handles.insert(Object::Channel(b)) else {
        handles.remove(ha);
        return Err(Errno::Nomem);
    };
    write_u32(c, out_a, ha)?;
    write_u32(c, out_b, hb)
}

fn channel_of(c: &Caller<'_, ProcState>, h: i32) -> Result<ChannelRef, Errno> {
    match c.data().handles.get(h as u32) {
        Some(Object::Channel(e)) => Ok(ChannelRef::clone(e)),
        _ => Err(Errno::Badf),
    }
}

fn chan_errno(e: ChanErr) -> Option<Errno> {
    match e {
        ChanErr::Again => Some(Errno::Again),
        ChanErr::Pipe => Some(Errno::Pipe),
        ChanErr::MsgSize(_) => Some(Errno::Msgsize),
        ChanErr::Killed => None,
    }
}

fn channel_send(
    c: &mut Caller<'_, ProcState>,
    h: i32,
    buf: i32,
    len: i32,
    nonblocking: bool,
) -> Result<(), Option<Errno>> {
    let end = channel_of(c, h).map_err(Some)?;
    if len as u32 as usize > atoll_abi::MAX_MESSAGE {
        return Err(Some(Errno::Msgsize));
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
) -> Result<(), Option<Errno>> {
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
            Err(Some(Errno::Msgsize))
        }
        Err(e) => Err(chan_errno(e)),
    }
}

fn log(c: &mut Caller<'_, ProcState>, level: i32, msg: i32, len: i32) -> Result<(), Errno> {
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
        _ => return Err(Errno::Inval),
    }
    Ok(())
}
