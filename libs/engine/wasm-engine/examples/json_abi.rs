//! Pattern 2, JSON in and JSON out over linear memory. The host asks the guest's `alloc`
//! export for a buffer, writes the UTF-8 request into it with the bounds-checked
//! `Memory::write`, calls `invoke(ptr, len)`, which returns the reply's pointer and length
//! packed in an i64, reads the reply with `Memory::read` and frees both buffers with
//! `dealloc`. Every pointer and length the guest hands back is checked: a reply outside
//! memory is an error, never a host panic or an out-of-bounds read. The guest is Rust for
//! `wasm32-unknown-unknown` (`examples/guests/json_guest.rs`), built here with `rustc`.
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};
use wasm_engine::{Engine, Error, Instance, Memory, Module, Store, TypedFunc};

/// The largest reply the host accepts, whatever length the guest claims.
const MAX_REPLY: u32 = 1 << 20;

/// Why a call over the JSON ABI failed.
#[derive(Debug)]
pub enum AbiError {
    /// The engine's error: a trap, a memory access out of bounds, a missing export, ...
    Wasm(Error),
    /// The guest broke the protocol: allocation failed, a reply too long or not JSON.
    Protocol(String),
}

impl From<Error> for AbiError {
    fn from(e: Error) -> AbiError {
        AbiError::Wasm(e)
    }
}

/// An instance of a guest that speaks the ABI.
pub struct JsonGuest {
    pub store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    dealloc: TypedFunc<(u32, u32), ()>,
    invoke: TypedFunc<(u32, u32), u64>,
}

impl JsonGuest {
    pub fn new(engine: &Engine, wasm: &[u8]) -> Result<JsonGuest, Error> {
        let module = Module::new(engine, wasm)?;
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module, &[])?;
        let memory = instance
            .get_memory(&store, "memory")
            .ok_or_else(|| Error::Usage("the guest exports no `memory`".into()))?;
        Ok(JsonGuest {
            memory,
            alloc: instance.get_typed_func(&store, "alloc")?,
            dealloc: instance.get_typed_func(&store, "dealloc")?,
            invoke: instance.get_typed_func(&store, "invoke")?,
            store,
        })
    }

    /// Sends `request`, returns the guest's reply.
    pub fn call(&mut self, request: &Value) -> Result<Value, AbiError> {
        let bytes = serde_json::to_vec(request).expect("a Value always serializes");
        let len = u32::try_from(bytes.len())
            .map_err(|_| AbiError::Protocol("request larger than 4 GiB".into()))?;
        let ptr = self.alloc.call(&mut self.store, len)?;
        if ptr == 0 {
            return Err(AbiError::Protocol(format!(
                "guest could not allocate {len} bytes"
            )));
        }
        let reply = self
            .memory
            .write(&mut self.store, ptr as usize, &bytes)
            .map_err(AbiError::from)
            .and_then(|()| self.exchange(ptr, len));
        self.dealloc.call(&mut self.store, (ptr, len))?;
        reply
    }

    /// Calls `invoke` on the request at `ptr`; reads, frees and parses the reply.
    fn exchange(&mut self, ptr: u32, len: u32) -> Result<Value, AbiError> {
        let packed = self.invoke.call(&mut self.store, (ptr, len))?;
        let (reply_ptr, reply_len) = ((packed >> 32) as u32, packed as u32);
        if reply_len > MAX_REPLY {
            return Err(AbiError::Protocol(format!(
                "reply of {reply_len} bytes (at most {MAX_REPLY})"
            )));
        }
        let mut reply = vec![0; reply_len as usize];
        self.memory
            .read(&self.store, reply_ptr as usize, &mut reply)?;
        self.dealloc.call(&mut self.store, (reply_ptr, reply_len))?;
        serde_json::from_slice(&reply)
            .map_err(|e| AbiError::Protocol(format!("reply is not JSON: {e}")))
    }

    /// The guest's linear memory size in bytes.
    pub fn memory_size(&self) -> usize {
        self.memory.data_size(&self.store)
    }
}

/// Builds the Rust guest with `rustc` into `out_dir`; returns the module's bytes.
pub fn build_guest(out_dir: &Path) -> Result<Vec<u8>, String> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/guests/json_guest.rs");
    let wasm = out_dir.join("json_guest.wasm");
    std::fs::create_dir_all(out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let status = Command::new(std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into()))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--edition=2024", "--crate-type=cdylib", "-O"])
        .args(["--target", "wasm32-unknown-unknown", "-o"])
        .arg(&wasm)
        .arg(&source)
        .status()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    if !status.success() {
        return Err(format!("rustc failed on {}: {status}", source.display()));
    }
    std::fs::read(&wasm).map_err(|e| format!("{}: {e}", wasm.display()))
}

/// The guest's bytes, built once per process into a directory of its own.
pub fn guest_wasm() -> Result<&'static [u8], AbiError> {
    static WASM: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
    let dir = std::env::temp_dir().join(format!("atoll-json-abi-{}", std::process::id()));
    match WASM.get_or_init(|| build_guest(&dir)) {
        Ok(wasm) => Ok(wasm),
        Err(e) => Err(AbiError::Protocol(e.clone())),
    }
}

fn main() -> Result<(), AbiError> {
    let mut guest = JsonGuest::new(&Engine::default(), guest_wasm()?)?;
    for request in [
        json!({"op": "stats", "values": [3, 1.5, 4, 1, 5]}),
        json!({"op": "stats", "values": []}),
        json!({"op": "launch"}),
    ] {
        println!("{request} -> {}", guest.call(&request)?);
    }
    let hostile = json!({"op": "reply_at", "ptr": guest.memory_size() - 4, "len": 64});
    match guest.call(&hostile) {
        Err(AbiError::Wasm(e @ Error::MemoryAccess { .. })) => println!("{hostile} -> {e}"),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guest() -> JsonGuest {
        JsonGuest::new(&Engine::default(), guest_wasm().unwrap()).expect("guest instantiates")
    }

    #[test]
    fn the_example_runs() {
        main().expect("example");
    }

    #[test]
    fn a_request_gets_its_reply() {
        let reply = guest()
            .call(&json!({"op": "stats", "values": [2, -7, 10.5]}))
            .unwrap();
        assert_eq!(
            reply,
            json!({"ok": true, "count": 3, "sum": 5.5, "min": -7, "max": 10.5})
        );
    }

    #[test]
    fn the_guest_reports_requests_it_does_not_understand() {
        let mut g = guest();
        let reply = g.call(&json!({"op": "stats", "values": ["x"]})).unwrap();
        assert_eq!(
            reply,
            json!({"ok": false, "error": "values must be numbers"})
        );
        let reply = g.call(&json!([1, 2])).unwrap();
        assert_eq!(reply, json!({"ok": false, "error": "malformed request"}));
    }

    /// A guest after one call, so that its allocator has grown its memory.
    fn warm_guest() -> (JsonGuest, usize) {
        let mut g = guest();
        g.call(&json!({"op": "stats", "values": [1]})).unwrap();
        let size = g.memory_size();
        (g, size)
    }

    #[test]
    fn a_reply_pointing_outside_memory_is_an_error() {
        let (mut g, size) = warm_guest();
        for (ptr, len) in [(size - 4, 64), (size, 1), (u32::MAX as usize, 2)] {
            let r = g.call(&json!({"op": "reply_at", "ptr": ptr, "len": len}));
            assert!(
                matches!(r, Err(AbiError::Wasm(Error::MemoryAccess { .. }))),
                "({ptr}, {len}): {r:?}"
            );
        }
    }

    #[test]
    fn a_reply_longer_than_the_limit_is_refused_before_any_allocation() {
        let r = guest().call(&json!({"op": "reply_at", "ptr": 0, "len": u32::MAX}));
        assert!(
            matches!(r, Err(AbiError::Protocol(ref m)) if m.contains("reply of")),
            "{r:?}"
        );
    }

    #[test]
    fn a_reply_that_is_not_json_is_an_error() {
        let r = guest().call(&json!({"op": "raw", "text": "{\"unterminated"}));
        assert!(
            matches!(r, Err(AbiError::Protocol(ref m)) if m.contains("not JSON")),
            "{r:?}"
        );
    }

    #[test]
    fn the_instance_serves_calls_after_a_hostile_reply() {
        let (mut g, size) = warm_guest();
        assert!(
            g.call(&json!({"op": "reply_at", "ptr": size, "len": 8}))
                .is_err()
        );
        let reply = g.call(&json!({"op": "stats", "values": [1]})).unwrap();
        assert_eq!(reply["sum"], json!(1));
    }

    #[test]
    fn both_buffers_are_freed_so_memory_does_not_grow_over_many_calls() {
        let mut g = guest();
        let values: Vec<u32> = (0..2000).collect();
        let request = json!({"op": "stats", "values": values});
        g.call(&request).unwrap();
        let size = g.memory_size();
        for _ in 0..2000 {
            assert_eq!(g.call(&request).unwrap()["count"], json!(2000));
        }
        assert_eq!(g.memory_size(), size);
    }
}
