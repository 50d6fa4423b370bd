//! `poll_oneoff`, as wasmtime 51 answers it: every subscription that is ready is reported,
//! in subscription order; files are always ready; an fd that cannot be polled fails the
//! whole call.

use alloc::vec::Vec;

use super::{Fail, R};
use crate::abi::{clockid, eventrwflags, eventtype, layout, subclockflags};
use crate::ctx::{Fd, WasiCtx};
use crate::errno::Errno;
use crate::mem::GuestMemory;

enum Sub {
    /// Fires at this monotonic time.
    Clock(u64),
    /// Readable stdin.
    Stdin,
    /// Ready at once with these event flags.
    Ready(u16),
}

impl WasiCtx {
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
        let in_bytes = nsubs
            .checked_mul(layout::SUBSCRIPTION_SIZE)
            .ok_or(Errno::Fault)?;
        let out_bytes = nsubs.checked_mul(layout::EVENT_SIZE).ok_or(Errno::Fault)?;
        mem.check(subs, in_bytes)?;
        mem.check(events, out_bytes)?;
        mem.check(nevents, 4)?;

        let now = self.clock.monotonic_now();
        let mut list = Vec::with_capacity(nsubs as usize);
        for i in 0..nsubs {
            let at = subs + i * layout::SUBSCRIPTION_SIZE;
            let userdata = mem.read_u64(at)?;
            let tag = mem.read_u8(at + 8)?;
            let sub = match tag {
                eventtype::CLOCK => {
                    let id = mem.read_u32(at + 16)?;
                    let timeout = mem.read_u64(at + 24)?;
                    let abs = mem.read_u16(at + 40)? & subclockflags::ABSTIME != 0;
                    match id {
                        clockid::MONOTONIC if abs => Sub::Clock(timeout),
                        clockid::REALTIME if abs => Sub::Clock(
                            now.saturating_add(timeout.saturating_sub(self.clock.realtime_now())),
                        ),
                        clockid::MONOTONIC | clockid::REALTIME => {
                            Sub::Clock(now.saturating_add(timeout))
                        }
                        clockid::PROCESS_CPUTIME_ID | clockid::THREAD_CPUTIME_ID => {
                            return Err(Errno::Inval.into());
                        }
                        _ => return Err(Fail::Trap("invalid enum value clockid")),
                    }
                }
                eventtype::FD_READ => {
                    let fd = mem.read_u32(at + 16)?;
                    match self.fd(fd)? {
                        Fd::Stdin => Sub::Stdin,
                        Fd::File(f) => {
                            let size = f.file.fs.fstat(f.file.handle)?.size;
                            if f.pos >= size {
                                Sub::Ready(eventrwflags::FD_READWRITE_HANGUP)
                            } else {
                                Sub::Ready(0)
                            }
                        }
                        _ => return Err(Errno::Badf.into()),
                    }
                }
                eventtype::FD_WRITE => {
                    let fd = mem.read_u32(at + 16)?;
                    match self.fd(fd)? {
                        Fd::Stdout | Fd::Stderr | Fd::File(_) => Sub::Ready(0),
                        _ => return Err(Errno::Badf.into()),
                    }
                }
                _ => return Err(Fail::Trap("invalid enum value eventtype")),
            };
            list.push((userdata, tag, sub));
        }
        // wasmtime answers one relative clock alone by sleeping, with nbytes 1 in its event.
        let lone_sleep = nsubs == 1 && matches!(list[0].2, Sub::Clock(_)) && {
            let flags = mem.read_u16(subs + 40)?;
            flags & subclockflags::ABSTIME == 0
        };

        loop {
            let now = self.clock.monotonic_now();
            let wants_stdin = list.iter().any(|(_, _, s)| matches!(s, Sub::Stdin));
            let stdin_ready = wants_stdin && self.console.stdin_ready();
            let mut n: u32 = 0;
            for (userdata, tag, sub) in &list {
                let (nbytes, flags) = match sub {
                    Sub::Ready(flags) => (1, *flags),
                    Sub::Stdin if stdin_ready => (1, 0),
                    Sub::Clock(deadline) if *deadline <= now => (u64::from(lone_sleep), 0),
                    _ => continue,
                };
                let at = events + n * layout::EVENT_SIZE;
                let mut rec = [0u8; layout::EVENT_SIZE as usize];
                rec[0..8].copy_from_slice(&userdata.to_le_bytes());
                rec[10] = *tag;
                rec[16..24].copy_from_slice(&nbytes.to_le_bytes());
                rec[24..26].copy_from_slice(&flags.to_le_bytes());
                mem.write_bytes(at, &rec)?;
                n += 1;
            }
            if n > 0 {
                return Ok(mem.write_u32(nevents, n)?);
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
