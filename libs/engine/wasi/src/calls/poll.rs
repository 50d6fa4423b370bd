//! `poll_oneoff`, as wasmtime 51 answers it (the embedding API's path, which treats a single
//! clock like any other): every subscription that is ready is reported, in subscription order;
//! files are always ready; an fd that cannot be polled fails the whole call. A subscription
//! whose event type, clock id or flags are not valid values is `EINVAL` (it is read from
//! memory, so it is no host error); the events are written one by one as they are reported.

use alloc::vec::Vec;

use super::{Fail, R, mutable};
use crate::abi::{clockid, eventrwflags, eventtype, layout, subclockflags};
use crate::ctx::{Fd, WasiCtx};
use crate::errno::Errno;
use crate::mem::GuestMemory;

enum Sub {
    /// Fires at this monotonic time.
    Clock(u64),
    /// Readable stdin.
    Stdin,
    /// Readable file `fd`: ready at once, with `HANGUP` at its end.
    FileRead(u32),
    /// Ready at once.
    Ready,
}

/// The address of record `i` of an array at `base`; past the address space is a host error.
fn element(base: u32, i: u32, size: u32) -> Result<u32, Fail> {
    i.checked_mul(size)
        .and_then(|o| base.checked_add(o))
        .ok_or(Fail::HostError("pointer out of bounds"))
}

impl WasiCtx {
    /// One subscription from memory: its userdata, event type and what it waits for.
    fn subscription(&self, mem: &GuestMemory<'_>, at: u32) -> Result<(u64, u8, Sub), Fail> {
        let userdata = mem.read_u64(at)?;
        let tag = mem.read_u8(at + 8)?;
        let sub = match tag {
            eventtype::CLOCK => {
                let id = mem.read_u32(at + 16)?;
                let timeout = mem.read_u64(at + 24)?;
                let _precision = mem.read_u64(at + 32)?;
                let flags = mem.read_u16(at + 40)?;
                if id > clockid::THREAD_CPUTIME_ID || flags & !subclockflags::ABSTIME != 0 {
                    return Err(Errno::Inval.into());
                }
                let abs = flags & subclockflags::ABSTIME != 0;
                let now = self.clock.monotonic_now();
                match id {
                    clockid::MONOTONIC if abs => Sub::Clock(timeout),
                    clockid::REALTIME if abs => Sub::Clock(
                        now.saturating_add(timeout.saturating_sub(self.clock.realtime_now())),
                    ),
                    clockid::MONOTONIC | clockid::REALTIME => {
                        Sub::Clock(now.saturating_add(timeout))
                    }
                    _ => return Err(Errno::Inval.into()),
                }
            }
            eventtype::FD_READ => {
                let fd = mem.read_u32(at + 16)?;
                match self.fd(fd)? {
                    Fd::Stdin => Sub::Stdin,
                    Fd::File(_) => Sub::FileRead(fd),
                    _ => return Err(Errno::Badf.into()),
                }
            }
            eventtype::FD_WRITE => {
                let fd = mem.read_u32(at + 16)?;
                match self.fd(fd)? {
                    Fd::Stdout | Fd::Stderr => Sub::Ready,
                    // A file of a read-only tree cannot be written (wasmtime's file permissions).
                    Fd::File(f) => {
                        mutable(&*f.file.fs)?;
                        Sub::Ready
                    }
                    _ => return Err(Errno::Badf.into()),
                }
            }
            _ => return Err(Errno::Inval.into()),
        };
        Ok((userdata, tag, sub))
    }

    pub(super) fn poll_oneoff(
        &mut self,
        mem: &mut GuestMemory<'_>,
        subs: u32,
        events: u32,
        nsubs: u32,
        nevents: u32,
    ) -> R {
        if nsubs == 0 {
            return Err(Errno::Inval.into());
        }
        mem.consume(nsubs as usize * layout::SUBSCRIPTION_SIZE as usize)?;
        mem.consume(nsubs as usize * layout::EVENT_SIZE as usize)?;
        let mut list = Vec::new();
        for i in 0..nsubs {
            let at = element(subs, i, layout::SUBSCRIPTION_SIZE)?;
            list.push(self.subscription(mem, at)?);
        }
        let wants_stdin = list.iter().any(|(_, _, s)| matches!(s, Sub::Stdin));
        loop {
            let now = self.clock.monotonic_now();
            let stdin_ready = wants_stdin && self.console.stdin_ready();
            let mut n: u32 = 0;
            for (userdata, tag, sub) in &list {
                let (nbytes, flags): (u64, u16) = match sub {
                    Sub::Ready => (1, 0),
                    Sub::Stdin if stdin_ready => (1, 0),
                    Sub::FileRead(fd) => {
                        let f = self.file(*fd)?;
                        let size = f.file.fs.fstat(f.file.handle)?.size;
                        let hangup = if size <= f.pos {
                            eventrwflags::FD_READWRITE_HANGUP
                        } else {
                            0
                        };
                        (1, hangup)
                    }
                    Sub::Clock(deadline) if *deadline <= now => (0, 0),
                    _ => continue,
                };
                let mut rec = [0u8; layout::EVENT_SIZE as usize];
                rec[0..8].copy_from_slice(&userdata.to_le_bytes());
                rec[10] = *tag;
                rec[16..24].copy_from_slice(&nbytes.to_le_bytes());
                rec[24..26].copy_from_slice(&flags.to_le_bytes());
                mem.write_record(element(events, n, layout::EVENT_SIZE)?, &rec, 8)?;
                n += 1;
            }
            if n > 0 {
                return mem.write_u32(nevents, n);
            }
            let deadline = list
                .iter()
                .filter_map(|(_, _, s)| match s {
                    Sub::Clock(d) => Some(*d),
                    _ => None,
                })
                .min()
                .unwrap_or(u64::MAX);
            self.sched.sleep_until(deadline, wants_stdin);
        }
    }
}
