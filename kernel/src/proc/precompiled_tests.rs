//! Kernel tests of precompiled modules: one runs as a process without a
//! compile, an artifact for a CPU feature the machine lacks falls back to
//! the JIT, and a process cannot hand the kernel native code.

use alloc::string::{String, ToString};
use alloc::vec;

use ktest::ktest;
use sha2::{Digest, Sha256};
use wasm_engine::Config;

use super::{SpawnError, SpawnRequest, Status, StatusKind, cache, precompiled};

static AOT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/aot_exit.wasm"));

fn spawn(wasm: &[u8]) -> Result<super::ProcRef, SpawnError> {
    super::spawn(SpawnRequest {
        name: "aot",
        wasm,
        image_path: None,
        args: vec![String::from("aot")],
        env: vec![],
        preopens: vec![],
        handles: vec![],
        stdio: crate::proc::Stdio::Null,
        owns_console: false,
        entry: crate::proc::invoke::Request::Command,
    })
}

fn exits_42(wasm: &[u8]) {
    let p = spawn(wasm).unwrap_or_else(|e| panic!("spawn: {e}"));
    let status = p.wait().expect("the test thread is not killed");
    assert_eq!(
        status,
        Status {
            kind: StatusKind::Exited,
            code: 42
        }
    );
}

ktest! {
    fn a_precompiled_module_runs_as_a_process_without_a_compile() {
        let artifact = cache::engine().precompile(AOT).expect("precompile");
        let (compiles, loads) = (cache::compiles(), cache::precompiled_loads());
        let module = cache::load(AOT, &Sha256::digest(AOT).into(), Some(("test/aot_exit.cwasm", &artifact))).expect("load");
        assert_eq!(cache::precompiled_loads(), loads + 1, "the artifact was not used");
        assert_eq!(cache::compiles(), compiles, "the module was compiled");
        cache::insert(AOT, module);
        exits_42(AOT);
        assert_eq!(cache::compiles(), compiles, "the spawn compiled");
    }
}

ktest! {
    fn an_artifact_for_a_cpu_feature_the_machine_lacks_falls_back_to_the_jit() {
        let mut config = Config::new();
        config.epoch_interruption(true);
        let feature = crate::arch::wasm::FEATURE_NEVER_USED;
        // SAFETY: code compiled with the feature is only serialized, never run.
        unsafe { config.cranelift_flag_enable(feature) };
        let other = crate::wasm::new_engine(&config).expect("engine");
        let artifact = other.precompile(AOT).expect("precompile");
        let engine = cache::engine();
        let refused = wasm_engine::Module::deserialize(engine, &artifact, Some(&Sha256::digest(AOT).into()))
            .err()
            .expect("refused");
        assert!(refused.to_string().contains(feature), "{refused}");
        let (compiles, loads) = (cache::compiles(), cache::precompiled_loads());
        cache::load(AOT, &Sha256::digest(AOT).into(), Some(("test/aot_exit.cwasm", &artifact))).expect("compiled instead");
        assert_eq!(cache::compiles(), compiles + 1, "not compiled");
        assert_eq!(cache::precompiled_loads(), loads);
    }
}

ktest! {
    fn a_process_cannot_hand_the_kernel_native_code() {
        let artifact = cache::engine().precompile(AOT).expect("precompile");
        // Spawned as a program (as from a file in /tmp or a share), an
        // artifact is not Wasm: refused, never run.
        let loads = cache::precompiled_loads();
        match spawn(&artifact) {
            Err(SpawnError::NoExec(m)) => assert!(m.contains("magic"), "{m}"),
            Err(e) => panic!("expected ENOEXEC, got {e}"),
            Ok(_) => panic!("native code from a process was run"),
        }
        assert_eq!(cache::precompiled_loads(), loads);
        // Artifacts come only from the boot image: none is known for a
        // module that is not in it, whatever processes wrote.
        let key: [u8; 32] = Sha256::digest(AOT).into();
        assert!(precompiled::find(&key).is_none());
    }
}

ktest! {
    fn an_artifact_of_another_module_is_not_used_for_this_one() {
        let artifact = cache::engine().precompile(AOT).expect("precompile");
        let other: [u8; 32] = Sha256::digest(b"another module").into();
        let (compiles, loads) = (cache::compiles(), cache::precompiled_loads());
        cache::load(AOT, &other, Some(("test/aot_exit.cwasm", &artifact)))
            .expect("compiled instead");
        assert_eq!(cache::compiles(), compiles + 1, "not compiled");
        assert_eq!(cache::precompiled_loads(), loads, "the other module's code was used");
    }
}
