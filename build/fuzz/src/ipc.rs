//! The `ipc` target: random operations on the kernel's handle tables and channels
//! (`libs/kernel/ipc`, the logic behind `chan_create`, `chan_send`, `chan_recv`, `handle_close`,
//! handle transfer and a process's end) for a few processes, with handle numbers and sizes
//! from hostile to plausible, checked against an independent model of `user/ABI.md`'s rules:
//! lowest free handle first, at most `MAX_HANDLES`, messages up to `MAX_MESSAGE` bytes and
//! `MAX_QUEUED` per direction, FIFO delivery, `EPIPE` once the peer is closed and drained,
//! and closing an end when its handle goes. At the end every process is killed, and every
//! channel must be gone (nothing leaks).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, Weak};

use arbitrary::Unstructured;
use ipc::{Channel, ChannelError, HandleTable, MAX_HANDLES, MAX_MESSAGE, MAX_QUEUED};

use crate::stats::Stats;

const PROCS: usize = 3;
const MAX_OPS: usize = 400;

/// A channel end as the kernel holds one: dropping it closes the end.
struct End {
    chan: Arc<Mutex<Channel>>,
    end: usize,
    id: usize,
}

impl Drop for End {
    fn drop(&mut self) {
        self.chan
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .close(self.end);
    }
}

/// The model of one channel.
#[derive(Default)]
struct ModelChan {
    queues: [VecDeque<Vec<u8>>; 2],
    open: [bool; 2],
}

/// The model of one process's handles: handle → (channel id, end).
type ModelTable = BTreeMap<u32, (usize, usize)>;

struct World {
    tables: Vec<HandleTable<End>>,
    model: Vec<ModelTable>,
    chans: Vec<ModelChan>,
    weak: Vec<Weak<Mutex<Channel>>>,
    next_byte: u8,
}

fn lowest_free(t: &ModelTable) -> Option<u32> {
    // The first gap in the sorted handles.
    let mut want = 1;
    for h in t.keys() {
        if *h != want {
            break;
        }
        want += 1;
    }
    (want as usize <= MAX_HANDLES).then_some(want)
}

impl World {
    fn close_model(&mut self, chan: usize, end: usize) {
        let c = &mut self.chans[chan];
        c.open[end] = false;
        c.queues[end].clear();
    }

    /// Inserts an end into process `p`, in both worlds; a full table drops (closes) it.
    fn insert(&mut self, p: usize, end: End) -> Option<u32> {
        let (id, e) = (end.id, end.end);
        let expected = lowest_free(&self.model[p]);
        let got = self.tables[p].insert(end);
        if got != expected {
            panic!("insert into process {p}: handle {got:?}, the model says {expected:?}");
        }
        match got {
            Some(h) => {
                self.model[p].insert(h, (id, e));
            }
            None => self.close_model(id, e),
        }
        got
    }
}

fn byte(u: &mut Unstructured<'_>) -> u8 {
    u.arbitrary().unwrap_or(0)
}

/// A handle of process `p`: mostly one it has, sometimes anything.
fn handle(u: &mut Unstructured<'_>, w: &World, p: usize) -> u32 {
    let held: Vec<u32> = w.model[p].keys().copied().collect();
    match byte(u) % 8 {
        0 => 0,
        1 => u32::MAX,
        2 => u.arbitrary::<u32>().unwrap_or(7) % 2048,
        _ if !held.is_empty() => held[usize::from(byte(u)) % held.len()],
        _ => u32::from(byte(u) % 8),
    }
}

fn message_len(u: &mut Unstructured<'_>) -> usize {
    match byte(u) % 8 {
        0 => 0,
        1 => MAX_MESSAGE,
        2 => MAX_MESSAGE + 1,
        _ => usize::from(byte(u)),
    }
}

pub fn run(input: &[u8], stats: &mut Stats) -> Result<(), String> {
    stats.cases += 1;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_inner(input, stats)));
    match r {
        Ok(r) => r,
        Err(p) => Err(p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())),
    }
}

fn run_inner(input: &[u8], stats: &mut Stats) -> Result<(), String> {
    let mut u = Unstructured::new(input);
    let mut w = World {
        tables: (0..PROCS).map(|_| HandleTable::new()).collect(),
        model: vec![ModelTable::new(); PROCS],
        chans: Vec::new(),
        weak: Vec::new(),
        next_byte: 0,
    };
    for step in 0..MAX_OPS {
        if u.is_empty() {
            break;
        }
        stats.execs += 1;
        let p = usize::from(byte(&mut u)) % PROCS;
        match byte(&mut u) % 64 {
            0..=11 => {
                // chan_create: both handles or neither.
                let id = w.chans.len();
                let chan = Arc::new(Mutex::new(Channel::new()));
                w.weak.push(Arc::downgrade(&chan));
                w.chans.push(ModelChan {
                    open: [true, true],
                    ..ModelChan::default()
                });
                let a = End {
                    chan: chan.clone(),
                    end: 0,
                    id,
                };
                let b = End { chan, end: 1, id };
                let ha = w.insert(p, a);
                let hb = if ha.is_some() {
                    w.insert(p, b)
                } else {
                    w.close_model(id, 1);
                    None
                };
                if ha.is_some() && hb.is_none() {
                    // As the kernel does: undo the first handle.
                    let (cid, e) = w.model[p].remove(&ha.unwrap_or(0)).unwrap_or((id, 0));
                    drop(w.tables[p].remove(ha.unwrap_or(0)));
                    w.close_model(cid, e);
                }
                stats.event(if hb.is_some() {
                    "create"
                } else {
                    "create: table full"
                });
            }
            12..=27 => {
                let h = handle(&mut u, &w, p);
                let len = message_len(&mut u);
                let fill = w.next_byte;
                w.next_byte = w.next_byte.wrapping_add(1);
                let msg = vec![fill; len];
                let real = w.tables[p].get(h).map(|e| {
                    let r = e
                        .chan
                        .lock()
                        .unwrap_or_else(|x| x.into_inner())
                        .send(e.end, &msg);
                    (e.id, e.end, r)
                });
                let expected = w.model[p].get(&h).copied().map(|(id, end)| {
                    let c = &mut w.chans[id];
                    let r = if len > MAX_MESSAGE {
                        Err(ChannelError::TooBig(len))
                    } else if !c.open[1 - end] {
                        Err(ChannelError::PeerClosed)
                    } else if c.queues[1 - end].len() >= MAX_QUEUED {
                        Err(ChannelError::WouldBlock)
                    } else {
                        c.queues[1 - end].push_back(msg.clone());
                        Ok(())
                    };
                    (id, end, r)
                });
                if real != expected {
                    return Err(format!(
                        "step {step}: send on {h} by {p}: {real:?}, model {expected:?}"
                    ));
                }
                stats.event(format!("send: {:?}", real.map(|r| r.2)));
            }
            28..=39 => {
                let h = handle(&mut u, &w, p);
                let max = message_len(&mut u);
                let real = w.tables[p].get(h).map(|e| {
                    let r = e
                        .chan
                        .lock()
                        .unwrap_or_else(|x| x.into_inner())
                        .recv(e.end, max);
                    (e.id, e.end, r)
                });
                let expected = w.model[p].get(&h).copied().map(|(id, end)| {
                    let c = &mut w.chans[id];
                    let r = match c.queues[end].front() {
                        Some(m) if m.len() > max => Err(ChannelError::TooBig(m.len())),
                        Some(_) => Ok(c.queues[end].pop_front().unwrap_or_default()),
                        None if !c.open[1 - end] => Err(ChannelError::PeerClosed),
                        None => Err(ChannelError::WouldBlock),
                    };
                    (id, end, r)
                });
                if real != expected {
                    return Err(format!(
                        "step {step}: recv on {h} by {p}: {real:?}, model {expected:?}"
                    ));
                }
                stats.event(format!("recv: {:?}", real.map(|r| r.2.map(|m| m.len()))));
            }
            40..=47 => {
                // handle_close
                let h = handle(&mut u, &w, p);
                let real = w.tables[p].remove(h).map(|e| (e.id, e.end));
                let expected = w.model[p].remove(&h);
                if real != expected {
                    return Err(format!(
                        "step {step}: close {h} by {p}: {real:?}, model {expected:?}"
                    ));
                }
                if let Some((id, end)) = expected {
                    w.close_model(id, end);
                }
                stats.event(if real.is_some() {
                    "close"
                } else {
                    "close: bad handle"
                });
            }
            48..=55 => {
                // Handles moved to another process: all or nothing.
                let q = usize::from(byte(&mut u)) % PROCS;
                let n = usize::from(byte(&mut u) % 4);
                let hs: Vec<u32> = (0..n).map(|_| handle(&mut u, &w, p)).collect();
                let valid = hs
                    .iter()
                    .enumerate()
                    .all(|(i, h)| w.model[p].contains_key(h) && !hs[..i].contains(h));
                let taken = w.tables[p].take_all(&hs);
                if taken.is_some() != valid {
                    return Err(format!(
                        "step {step}: take_all {hs:?} from {p}: {}, model {valid}",
                        taken.is_some()
                    ));
                }
                if let Some(ends) = taken {
                    let moved: Vec<_> = hs.iter().map(|h| w.model[p].remove(h)).collect();
                    for ((h, e), m) in hs.iter().zip(ends).zip(moved) {
                        if m != Some((e.id, e.end)) {
                            return Err(format!(
                                "step {step}: handle {h} of {p} held {:?}, model {m:?}",
                                (e.id, e.end)
                            ));
                        }
                        w.insert(q, e);
                    }
                    stats.event("transfer");
                } else {
                    stats.event("transfer: refused");
                }
            }
            56..=62 => {
                // The process is killed: every handle goes.
                let ends = w.tables[p].drain();
                let model = std::mem::take(&mut w.model[p]);
                if ends.len() != model.len() {
                    return Err(format!(
                        "step {step}: kill {p}: {} handles, model {}",
                        ends.len(),
                        model.len()
                    ));
                }
                drop(ends);
                for (id, end) in model.into_values() {
                    w.close_model(id, end);
                }
                stats.event("kill");
            }
            _ => {
                // A table filled to its limit and emptied again.
                let mut extra = Vec::new();
                loop {
                    let id = w.chans.len();
                    let chan = Arc::new(Mutex::new(Channel::new()));
                    w.weak.push(Arc::downgrade(&chan));
                    w.chans.push(ModelChan {
                        open: [true, true],
                        ..ModelChan::default()
                    });
                    w.close_model(id, 1);
                    drop(End {
                        chan: chan.clone(),
                        end: 1,
                        id,
                    });
                    match w.insert(p, End { chan, end: 0, id }) {
                        Some(h) => extra.push(h),
                        None => break,
                    }
                }
                if w.tables[p].len() != MAX_HANDLES {
                    return Err(format!(
                        "step {step}: a full table holds {}",
                        w.tables[p].len()
                    ));
                }
                for h in extra {
                    let (id, end) = w.model[p].remove(&h).unwrap_or((0, 0));
                    drop(w.tables[p].remove(h));
                    w.close_model(id, end);
                }
                stats.event("fill the table");
            }
        }
        // Invariants: the tables and the model agree on every handle and channel state.
        for p in 0..PROCS {
            if w.tables[p].len() != w.model[p].len() {
                return Err(format!(
                    "step {step}: process {p} has {} handles, model {}",
                    w.tables[p].len(),
                    w.model[p].len()
                ));
            }
            for (h, (id, end)) in &w.model[p] {
                let Some(e) = w.tables[p].get(*h) else {
                    return Err(format!("step {step}: handle {h} of {p} is missing"));
                };
                let c = e.chan.lock().unwrap_or_else(|x| x.into_inner());
                let m = &w.chans[*id];
                if (e.id, e.end) != (*id, *end)
                    || c.is_open(1 - end) != m.open[1 - end]
                    || c.can_recv(*end) != (!m.queues[*end].is_empty() || !m.open[1 - end])
                    || c.can_send(*end)
                        != (!m.open[1 - end] || m.queues[1 - end].len() < MAX_QUEUED)
                {
                    return Err(format!(
                        "step {step}: channel {id} end {end} differs from the model"
                    ));
                }
            }
        }
    }
    for p in 0..PROCS {
        drop(w.tables[p].drain());
    }
    let leaked = w.weak.iter().filter(|c| c.upgrade().is_some()).count();
    if leaked > 0 {
        return Err(format!(
            "{leaked} channels still alive after every process ended"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_input_runs_without_a_finding() {
        let input: Vec<u8> = (0..8192u32)
            .map(|i| (i.wrapping_mul(2246822519) >> 11) as u8)
            .collect();
        let mut stats = Stats::default();
        run(&input, &mut stats).unwrap();
        assert!(stats.execs > 100);
    }
}
