//! The records passed through memory, as `#[repr(C)]` structs of
//! little-endian words (Wasm's byte order) with their sizes checked at compile
//! time, and one encoding for both sides: the kernel decodes what a program
//! encodes and the other way round.

use core::mem::size_of;

/// `spawn`'s request: where the program's path and its lists are.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SpawnRequest {
    pub path_ptr: u32,
    pub path_len: u32,
    /// `argv` as NUL-terminated strings back to back.
    pub argv_ptr: u32,
    pub argv_len: u32,
    /// `KEY=VALUE` strings, the same way.
    pub env_ptr: u32,
    pub env_len: u32,
    /// `PATH` or `PATH::NAME` strings, the same way: preopened as fds 3, 4, ...
    pub preopens_ptr: u32,
    pub preopens_len: u32,
    /// `u32` handles moved to the child as its handles 1, 2, ...
    pub handles_ptr: u32,
    pub handles_count: u32,
    /// [`SPAWN_STDIO_NULL`], [`SPAWN_SERVE`], both or 0.
    pub flags: u32,
    /// The export to call instead of `_start` (none if `invoke_len` is 0): `_initialize`
    /// runs first if the module exports it, `argv[1..]` are the export's arguments, and its
    /// results are printed to the child's stdout, as `wasmtime run --invoke`.
    pub invoke_ptr: u32,
    pub invoke_len: u32,
}

/// `SpawnRequest::flags`: the child's stdio is null (no console).
pub const SPAWN_STDIO_NULL: u32 = 1;

/// `SpawnRequest::flags`: the child serves calls (a reactor, usually): `_initialize`
/// runs first if the module exports it, then each message on the child's handle 1 (a
/// channel) is one call, `NAME ARG...` (UTF-8, words separated by spaces, arguments
/// as `--invoke` takes them), answered on the same channel by its results as text,
/// one per line, or by `error: REASON` when the call cannot be made (no such export,
/// bad arguments). The child exits with 0 when the other end is closed; a trap ends
/// it as any trap does. The invoke name is ignored.
pub const SPAWN_SERVE: u32 = 2;

const _: () = assert!(size_of::<SpawnRequest>() == SpawnRequest::SIZE);

impl SpawnRequest {
    /// 13 words.
    pub const SIZE: usize = 52;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let words = [
            self.path_ptr,
            self.path_len,
            self.argv_ptr,
            self.argv_len,
            self.env_ptr,
            self.env_len,
            self.preopens_ptr,
            self.preopens_len,
            self.handles_ptr,
            self.handles_count,
            self.flags,
            self.invoke_ptr,
            self.invoke_len,
        ];
        let mut out = [0u8; Self::SIZE];
        for (chunk, w) in out.chunks_exact_mut(4).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    pub fn decode(raw: &[u8; Self::SIZE]) -> SpawnRequest {
        let w = |i: usize| word(raw, i * 4);
        SpawnRequest {
            path_ptr: w(0),
            path_len: w(1),
            argv_ptr: w(2),
            argv_len: w(3),
            env_ptr: w(4),
            env_len: w(5),
            preopens_ptr: w(6),
            preopens_len: w(7),
            handles_ptr: w(8),
            handles_count: w(9),
            flags: w(10),
            invoke_ptr: w(11),
            invoke_len: w(12),
        }
    }
}

/// How a process ended (`Status::kind`).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusKind {
    /// Returned from `_start` or called `proc_exit(code)`.
    Exited = 0,
    /// Trapped; `code` is the trap code.
    Trapped = 1,
    /// Killed.
    Killed = 2,
}

/// `wait`'s record.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    pub kind: u32,
    /// The exit code or the trap code.
    pub code: u32,
    pub pid: u32,
    pub reserved: u32,
}

const _: () = assert!(size_of::<Status>() == Status::SIZE);

impl Status {
    pub const SIZE: usize = 16;

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        for (chunk, w) in
            out.chunks_exact_mut(4)
                .zip([self.kind, self.code, self.pid, self.reserved])
        {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out
    }

    pub fn decode(raw: &[u8; Self::SIZE]) -> Status {
        Status {
            kind: word(raw, 0),
            code: word(raw, 4),
            pid: word(raw, 8),
            reserved: word(raw, 12),
        }
    }
}

/// `process_list`'s record of one process.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProcessRecord {
    pub pid: u32,
    pub parent: u32,
    /// 0 running, 1 ready, 2 blocked, 3 exited.
    pub state: u32,
    /// The hart it runs or last ran on.
    pub hart: u32,
    /// CPU time used.
    pub cpu_ns: u64,
    /// The program's name, NUL-padded (cut at 24 bytes).
    pub name: [u8; 24],
}

const _: () = assert!(size_of::<ProcessRecord>() == ProcessRecord::SIZE);

impl ProcessRecord {
    pub const SIZE: usize = 48;

    /// A record with `name` cut to fit.
    pub fn new(pid: u32, parent: u32, state: u32, hart: u32, cpu_ns: u64, name: &str) -> Self {
        let mut n = [0u8; 24];
        let len = name.len().min(24);
        n[..len].copy_from_slice(&name.as_bytes()[..len]);
        ProcessRecord {
            pid,
            parent,
            state,
            hart,
            cpu_ns,
            name: n,
        }
    }

    pub fn encode(&self) -> [u8; Self::SIZE] {
        let mut out = [0u8; Self::SIZE];
        for (chunk, w) in
            out.chunks_exact_mut(4)
                .zip([self.pid, self.parent, self.state, self.hart])
        {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        out[16..24].copy_from_slice(&self.cpu_ns.to_le_bytes());
        out[24..].copy_from_slice(&self.name);
        out
    }

    pub fn decode(raw: &[u8; Self::SIZE]) -> ProcessRecord {
        let mut cpu = [0u8; 8];
        cpu.copy_from_slice(&raw[16..24]);
        let mut name = [0u8; 24];
        name.copy_from_slice(&raw[24..]);
        ProcessRecord {
            pid: word(raw, 0),
            parent: word(raw, 4),
            state: word(raw, 8),
            hart: word(raw, 12),
            cpu_ns: u64::from_le_bytes(cpu),
            name,
        }
    }

    /// The name without its padding.
    pub fn name_bytes(&self) -> &[u8] {
        let end = self.name.iter().position(|&b| b == 0).unwrap_or(24);
        &self.name[..end]
    }
}

fn word(raw: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spawn_request_round_trips_through_its_52_bytes() {
        let r = SpawnRequest {
            path_ptr: 1,
            argv_len: 4,
            handles_count: 2,
            flags: SPAWN_STDIO_NULL,
            invoke_ptr: 0,
            invoke_len: 7,
            ..SpawnRequest::default()
        };
        let raw = r.encode();
        assert_eq!(raw[12], 4, "argv_len is the fourth word");
        assert_eq!(raw[48], 7);
        assert_eq!(SpawnRequest::decode(&raw), r);
    }

    #[test]
    fn a_status_round_trips_and_keeps_the_kind_first() {
        let s = Status {
            kind: StatusKind::Trapped as u32,
            code: 9,
            pid: 5,
            reserved: 0,
        };
        let raw = s.encode();
        assert_eq!((raw[0], raw[4], raw[8]), (1, 9, 5));
        assert_eq!(Status::decode(&raw), s);
    }

    #[test]
    fn a_process_record_cuts_its_name_at_24_bytes() {
        let r = ProcessRecord::new(5, 1, 2, 3, 1_000_000, "a-very-long-program-name-indeed");
        let raw = r.encode();
        assert_eq!(&raw[24..29], b"a-ver");
        let back = ProcessRecord::decode(&raw);
        assert_eq!(back, r);
        assert_eq!(back.name_bytes(), b"a-very-long-program-name");
        assert_eq!(ProcessRecord::new(1, 0, 0, 0, 0, "sh").name_bytes(), b"sh");
    }
}
