//! WASI through the real engine (Linux backend): WAT modules that call every function, and
//! the programs under `user/` (built by `user/build.sh`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex, OnceLock};

use spin::Mutex;
use wasi_p1::std_host::{HostClock, OsRandom};
use wasi_p1::{
    Errno, FileData, FileSystem, Function, InitrdFs, MemConsole, MemFs, ParamType, WasiCtx,
    exit_status,
};
use wasm_engine::{Engine, Error, Linker, Module, Store, TrapCode, Val};

struct Proc {
    wasi: WasiCtx,
}

struct Run {
    result: Result<(), Error>,
    exit: Option<u32>,
    stdout: String,
    stderr: String,
    tmp: Arc<MemFs>,
}

impl Run {
    /// The process's exit status as an embedder computes it: 0 on return from `_start`.
    fn status(&self) -> Option<u32> {
        match &self.result {
            Ok(()) => Some(0),
            Err(e) => exit_status(e),
        }
    }
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(Engine::default)
}

fn new_store(args: &[&str], stdin: &[u8]) -> (Store<Proc>, Arc<Mutex<MemConsole>>, Arc<MemFs>) {
    let root = Arc::new(MemFs::new(1));
    root.insert_file("etc/motd", FileData::Static(b"welcome to atoll\n"))
        .unwrap();
    root.set_read_only(true);
    new_store_with(args, &[("HOME", "/tmp"), ("LANG", "C")], stdin, root)
}

/// A store with `root` preopened at `/` (fd 3) and a fresh [`MemFs`] at `/tmp` (fd 4).
fn new_store_with(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &[u8],
    root: Arc<dyn FileSystem>,
) -> (Store<Proc>, Arc<Mutex<MemConsole>>, Arc<MemFs>) {
    let console = Arc::new(Mutex::new(MemConsole::new(stdin)));
    let tmp = Arc::new(MemFs::new(2));
    let clock = HostClock::new();
    let mut wasi = WasiCtx::builder(
        Box::new(console.clone()),
        Box::new(clock),
        Box::new(OsRandom::new()),
        Box::new(clock.scheduler()),
    )
    .args(args.iter().copied());
    for (k, v) in env {
        wasi = wasi.env(k, v);
    }
    let wasi = wasi
        .preopen_dir(root, "/")
        .preopen_dir(tmp.clone(), "/tmp")
        .build();
    (Store::new(engine(), Proc { wasi }), console, tmp)
}

fn linker() -> Linker<Proc> {
    let mut linker = Linker::new(engine());
    wasi_p1::add_to_linker(&mut linker, |p: &mut Proc| &mut p.wasi).unwrap();
    linker
}

/// Instantiates `wasm` and runs its `_start`.
fn run(wasm: &[u8], args: &[&str], stdin: &[u8]) -> Run {
    run_in(wasm, new_store(args, stdin))
}

fn run_in(wasm: &[u8], store: (Store<Proc>, Arc<Mutex<MemConsole>>, Arc<MemFs>)) -> Run {
    let (mut store, console, tmp) = store;
    let module = Module::new(engine(), wasm).unwrap();
    let instance = linker().instantiate(&mut store, &module).unwrap();
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .unwrap();
    let result = start.call(&mut store, ());
    let c = console.lock();
    Run {
        result,
        exit: store.data().wasi.exit_code(),
        stdout: String::from_utf8_lossy(&c.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&c.stderr).into_owned(),
        tmp,
    }
}

// ---- every function through the engine ---------------------------------------------------

/// A module that imports every preview 1 function and exports a same-typed wrapper
/// `call_<name>` for each, so the host calls them with the Wasm instance as caller.
fn all_functions_wat(with_memory: bool) -> String {
    let mut imports = String::new();
    let mut wrappers = String::new();
    for f in Function::ALL {
        let params: Vec<&str> = f
            .params()
            .iter()
            .map(|p| if *p == ParamType::I32 { "i32" } else { "i64" })
            .collect();
        let sig = format!(
            "(param {}) {}",
            params.join(" "),
            if f.returns_errno() {
                "(result i32)"
            } else {
                ""
            }
        );
        let name = f.name();
        imports.push_str(&format!(
            "(import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} {sig}))\n"
        ));
        let gets: String = (0..params.len())
            .map(|i| format!("local.get {i} "))
            .collect();
        wrappers.push_str(&format!(
            "(func (export \"call_{name}\") {sig} {gets} call ${name})\n"
        ));
    }
    let memory = if with_memory {
        "(memory (export \"memory\") 1)"
    } else {
        ""
    };
    format!("(module\n{imports}{memory}\n{wrappers})")
}

struct Harness {
    store: Store<Proc>,
    instance: wasm_engine::Instance,
    console: Arc<Mutex<MemConsole>>,
}

impl Harness {
    fn new(with_memory: bool) -> Harness {
        let wasm = wat::parse_str(all_functions_wat(with_memory)).unwrap();
        let module = Module::new(engine(), &wasm).unwrap();
        let (mut store, console, _) = new_store(&["harness"], b"typed input");
        let instance = linker().instantiate(&mut store, &module).unwrap();
        Harness {
            store,
            instance,
            console,
        }
    }

    fn call(&mut self, name: &str, args: &[Val]) -> Result<Option<i32>, Error> {
        let f = self
            .instance
            .get_func(&mut self.store, &format!("call_{name}"))
            .unwrap();
        let mut results =
            vec![Val::I32(-1); usize::from(Function::from_name(name).unwrap().returns_errno())];
        f.call(&mut self.store, args, &mut results)?;
        Ok(results.first().map(|v| match v {
            Val::I32(x) => *x,
            other => panic!("{name} returned {other:?}"),
        }))
    }

    fn errno(&mut self, name: &str, args: &[Val]) -> i32 {
        self.call(name, args).unwrap().unwrap()
    }

    fn mem(&mut self) -> &mut [u8] {
        let m = self.instance.get_memory(&mut self.store, "memory").unwrap();
        m.data_mut(&mut self.store)
    }
}

fn i32v(x: u32) -> Val {
    Val::I32(x as i32)
}

const BADF: i32 = Errno::Badf as i32;

/// Whether `r` is the host error a call ends with on a pointer outside memory.
fn is_bad_pointer(r: Result<Option<i32>, Error>) -> bool {
    matches!(r, Err(Error::Host(m)) if m.ends_with("pointer out of bounds"))
}

#[test]
fn every_function_is_linked_and_answers_an_errno_or_a_host_error() {
    let mut h = Harness::new(true);
    for f in Function::ALL {
        // proc_exit ends the call; sched_yield has no arguments to get wrong.
        if matches!(*f, Function::proc_exit | Function::sched_yield) {
            continue;
        }
        // Out-of-bounds pointers for every i32 argument, huge values for every i64.
        let args: Vec<Val> = f
            .params()
            .iter()
            .map(|p| {
                if *p == ParamType::I32 {
                    i32v(0xffff_fff0)
                } else {
                    Val::I64(-1)
                }
            })
            .collect();
        let r = match h.call(f.name(), &args) {
            // As in wasmtime, an argument outside its witx type (here a clock id, whence,
            // advice or flag bits) or a pointer outside memory is a host error.
            Err(Error::Host(m)) if m.contains("invalid") || m.contains("pointer") => continue,
            r => r.unwrap_or_else(|e| panic!("{} failed: {e}", f.name())),
        };
        let errno = r.unwrap();
        assert!(
            errno > 0 && Errno::from_raw(errno as u16).is_some(),
            "{} -> {errno}",
            f.name()
        );
    }
    assert_eq!(h.errno("sched_yield", &[]), 0);
}

#[test]
fn a_pointer_outside_memory_ends_the_call_as_a_host_error_where_wasmtime_meets_it() {
    let mut h = Harness::new(true);
    let end = 0x1_0000u32;
    // Out-params at the end of memory.
    assert!(is_bad_pointer(
        h.call("args_sizes_get", &[i32v(end), i32v(0)])
    ));
    assert!(is_bad_pointer(
        h.call("clock_time_get", &[i32v(1), Val::I64(0), i32v(end)])
    ));
    assert_eq!(
        h.errno("clock_time_get", &[i32v(1), Val::I64(0), i32v(end - 8)]),
        0
    );
    assert!(is_bad_pointer(
        h.call("random_get", &[i32v(end - 4), i32v(5)])
    ));
    assert_eq!(h.errno("random_get", &[i32v(end - 4), i32v(4)]), 0);
    // Nothing to write checks nothing.
    assert_eq!(h.errno("random_get", &[i32v(u32::MAX), i32v(0)]), 0);
    // An iovec whose buffer leaves memory: nothing is written.
    h.mem()[0..8].copy_from_slice(&[(end - 1).to_le_bytes(), 2u32.to_le_bytes()].concat());
    assert!(is_bad_pointer(
        h.call("fd_write", &[i32v(1), i32v(0), i32v(1), i32v(16)])
    ));
    assert!(h.console.lock().stdout.is_empty());
    // A result pointer outside memory fails after the write is done.
    h.mem()[0x100] = b'x';
    h.mem()[0..8].copy_from_slice(&[0x100u32.to_le_bytes(), 1u32.to_le_bytes()].concat());
    assert!(is_bad_pointer(
        h.call("fd_write", &[i32v(1), i32v(0), i32v(1), i32v(end)])
    ));
    assert_eq!(h.console.lock().stdout, b"x");
    // Bad fds come before the buffers they would use.
    assert_eq!(h.errno("fd_close", &[i32v(1234)]), BADF);
    assert_eq!(
        h.errno("fd_write", &[i32v(u32::MAX), i32v(0), i32v(1), i32v(end)]),
        BADF
    );
}

#[test]
fn console_args_and_i64_arguments() {
    let mut h = Harness::new(true);
    // fd_write("hi\n") on stdout.
    let mem = h.mem();
    mem[0x100..0x103].copy_from_slice(b"hi\n");
    mem[0..8].copy_from_slice(&[0x100u32.to_le_bytes(), 3u32.to_le_bytes()].concat());
    assert_eq!(
        h.errno("fd_write", &[i32v(1), i32v(0), i32v(1), i32v(16)]),
        0
    );
    assert_eq!(h.mem()[16..20], 3u32.to_le_bytes());
    assert_eq!(h.console.lock().stdout, b"hi\n");
    // fd_read from stdin.
    h.mem()[0..8].copy_from_slice(&[0x200u32.to_le_bytes(), 5u32.to_le_bytes()].concat());
    assert_eq!(
        h.errno("fd_read", &[i32v(0), i32v(0), i32v(1), i32v(16)]),
        0
    );
    assert_eq!(&h.mem()[0x200..0x205], b"typed");
    // argv[0] is the program name.
    assert_eq!(h.errno("args_get", &[i32v(0x300), i32v(0x400)]), 0);
    assert_eq!(&h.mem()[0x400..0x408], b"harness\0");
    // Open /etc/motd (fd 3 is "/") and seek with a negative i64 offset from the end.
    h.mem()[0x500..0x508].copy_from_slice(b"etc/motd");
    let rights = Val::I64((wasi_p1::abi::rights::FD_READ | wasi_p1::abi::rights::FD_SEEK) as i64);
    let open = [
        i32v(3),
        i32v(0),
        i32v(0x500),
        i32v(8),
        i32v(0),
        rights,
        Val::I64(0),
        i32v(0),
        i32v(0x600),
    ];
    assert_eq!(h.errno("path_open", &open), 0);
    let fd = u32::from_le_bytes(h.mem()[0x600..0x604].try_into().unwrap());
    assert_eq!(fd, 5);
    assert_eq!(
        h.errno("fd_seek", &[i32v(fd), Val::I64(-6), i32v(2), i32v(0x608)]),
        0
    );
    assert_eq!(
        u64::from_le_bytes(h.mem()[0x608..0x610].try_into().unwrap()),
        11
    );
    h.mem()[0..8].copy_from_slice(&[0x700u32.to_le_bytes(), 64u32.to_le_bytes()].concat());
    assert_eq!(
        h.errno("fd_read", &[i32v(fd), i32v(0), i32v(1), i32v(16)]),
        0
    );
    assert_eq!(&h.mem()[0x700..0x706], b"atoll\n");
}

#[test]
fn proc_exit_ends_the_call_with_its_code() {
    let mut h = Harness::new(true);
    let err = h.call("proc_exit", &[i32v(3)]).unwrap_err();
    assert_eq!(exit_status(&err), Some(3), "{err}");
    assert_eq!(h.store.data().wasi.exit_code(), Some(3));
}

#[test]
fn a_module_without_memory_fails_at_the_first_pointer_it_passes() {
    let mut h = Harness::new(false);
    assert!(is_bad_pointer(
        h.call("fd_write", &[i32v(1), i32v(0), i32v(1), i32v(16)])
    ));
    assert_eq!(h.errno("fd_close", &[i32v(99)]), BADF);
    assert_eq!(h.errno("fd_close", &[i32v(2)]), 0);
}

#[test]
fn proc_exit_from_a_start_function() {
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (func (export "_start") (call $exit (i32.const 3)) unreachable))"#,
    )
    .unwrap();
    let r = run(&wasm, &["exit3"], b"");
    assert_eq!(r.status(), Some(3));
    assert_eq!(r.exit, Some(3));
}

// ---- the user programs ---------------------------------------------------------------------

fn user_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../user")
}

/// Builds `user/` once per test run (`user/build.sh`) and returns a program's bytes.
fn user_program(name: &str) -> Vec<u8> {
    static BUILT: StdMutex<Option<Result<(), String>>> = StdMutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let result = built.get_or_insert_with(|| {
        let out = std::process::Command::new("sh")
            .arg(user_dir().join("build.sh"))
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .map_err(|e| format!("cannot run user/build.sh: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "user/build.sh failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let path = user_dir().join("target/wasm").join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn rust_hello() {
    let r = run(&user_program("hello"), &["hello", "one", "two words"], b"");
    assert!(r.result.is_ok(), "{:?}", r.result);
    assert_eq!(r.status(), Some(0));
    assert_eq!(
        r.stdout,
        "Hello from atoll! I am hello.\narg[1] = one\narg[2] = two words\nenv HOME=/tmp\nenv LANG=C\n"
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn rust_hello_exit_status() {
    let r = run(&user_program("hello"), &["hello", "--exit", "3"], b"");
    assert_eq!(r.status(), Some(3), "{:?}", r.result);
    assert_eq!(r.exit, Some(3));
    assert_eq!(r.stderr, "exiting with status 3\n");
}

#[test]
fn c_hello() {
    let r = run(&user_program("hello-c"), &["hello-c", "x"], b"");
    assert_eq!(r.status(), Some(0), "{:?} stderr: {}", r.result, r.stderr);
    assert_eq!(
        r.stdout,
        "Hello from C on atoll! I am hello-c, argc=2.\narg[1] = x\nHOME=/tmp\n\
         read back from /tmp: written by hello-c\nmonotonic clock ok\n"
    );
    assert_eq!(
        r.tmp.file_contents("hello-c.txt").unwrap(),
        b"written by hello-c\n"
    );
}

#[test]
fn trap_program_traps() {
    let r = run(&user_program("trap"), &["trap"], b"");
    assert_eq!(r.stdout, "about to execute `unreachable`\n");
    match &r.result {
        Err(Error::Trap(t)) => assert_eq!(t.code, TrapCode::Unreachable),
        other => panic!("expected a trap, got {other:?}"),
    }
    assert_eq!(r.status(), None);
}

#[test]
fn cpu_burn_prints_progress() {
    let r = run(&user_program("cpu-burn"), &["cpu-burn", "3", "1000"], b"");
    assert_eq!(r.status(), Some(0), "{:?}", r.result);
    // The same computation on the host: Wasm i64 arithmetic must agree bit for bit.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut expected = String::new();
    for round in 1..=3 {
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        expected += &format!("cpu-burn: round {round}/3 checksum {x:016x}\n");
    }
    assert_eq!(r.stdout, expected);
}

// ---- user/wasi-conformance -----------------------------------------------------------------

/// Runs `user/wasi-conformance` as atoll does: the initrd (holding the program itself as
/// `/bin/wasi-conformance.wasm`) read-only at `/`, a RAM file system at `/tmp`.
fn run_conformance(args: &[&str], stdin: &[u8]) -> Run {
    let wasm = user_program("wasi-conformance");
    let mut b = initrd::Builder::new();
    b.file("/bin/wasi-conformance.wasm", &wasm)
        .file("/etc/motd", b"welcome to atoll\n")
        .dir("/tmp");
    let image: &'static [u8] = b.finish().leak();
    let root = Arc::new(InitrdFs::new(image, 1).unwrap());
    let store = new_store_with(args, &[("ATOLL_TEST", "1"), ("HOME", "/tmp")], stdin, root);
    run_in(&wasm, store)
}

#[test]
fn wasi_conformance_passes() {
    for stdin in [&b""[..], b"typed ahead\n"] {
        let r = run_conformance(&["wasi-conformance", "a", "b"], stdin);
        let failures: Vec<&str> = r.stdout.lines().filter(|l| !l.starts_with("ok ")).collect();
        assert_eq!(
            r.status(),
            Some(0),
            "{:?}\nstdout:\n{}\nstderr:\n{}",
            r.result,
            r.stdout,
            r.stderr
        );
        let last = r.stdout.lines().last().unwrap_or("");
        let passed: u32 = last
            .strip_suffix(" passed, 0 failed")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("last line {last:?}; all output:\n{}", r.stdout));
        // Every line but the summary is a passed check, and there are many of them.
        assert_eq!(failures, [last], "{}", r.stdout);
        assert_eq!(r.stdout.lines().count() as u32, passed + 1);
        assert!(passed >= 100, "only {passed} checks ran");
        assert_eq!(r.stderr, "");
        // It cleaned up after itself.
        assert_eq!(r.tmp.node_count(), 1, "only the root is left");
    }
}

#[test]
fn wasi_conformance_reports_failures() {
    // Run with the wrong arguments and environment: those checks fail, the program says so
    // and exits 1.
    let r = run_conformance(&["wasi-conformance", "x"], b"");
    assert_eq!(r.status(), Some(1), "{:?}\n{}", r.result, r.stdout);
    let fails: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("FAIL "))
        .collect();
    assert_eq!(fails.len(), 2, "{}", r.stdout);
    assert!(
        fails[0].starts_with("FAIL args_sizes_get: argc 2"),
        "{}",
        fails[0]
    );
    assert!(fails[1].starts_with("FAIL args_get: argv"), "{}", fails[1]);
    assert!(r.stdout.ends_with(" passed, 2 failed\n"), "{}", r.stdout);
}

#[test]
fn wasi_conformance_exit_codes_pass_through() {
    for code in [0, 7, 125] {
        let r = run_conformance(&["wasi-conformance", "--exit", &code.to_string()], b"");
        assert_eq!(r.status(), Some(code), "{:?}", r.result);
        assert_eq!(r.stdout, "");
    }
    // wasmtime traps on a status of 126 or more instead of exiting with it.
    let r = run_conformance(&["wasi-conformance", "--exit", "126"], b"");
    assert_eq!(r.exit, None);
    assert!(
        matches!(&r.result, Err(Error::Host(m)) if m.contains("invalid exit status")),
        "{:?}",
        r.result
    );
}

// ---- parity with wasmtime ------------------------------------------------------------------

/// Runs `tests/parity/NAME.script` through `wasi-probe` with an empty [`MemFs`] preopened as
/// fd 3 (`/sandbox`) and checks that the output is what wasmtime 51 printed for it
/// (`NAME.wasmtime`, recorded by `tests/parity/record.py` over a tmpfs directory).
fn parity(name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parity");
    let script = std::fs::read(dir.join(format!("{name}.script"))).unwrap();
    let want = std::fs::read_to_string(dir.join(format!("{name}.wasmtime"))).unwrap();
    let clock = HostClock::new();
    let console = Arc::new(Mutex::new(MemConsole::new(&script)));
    let sandbox = Arc::new(MemFs::new(1).with_clock(Arc::new(clock)));
    let wasi = WasiCtx::builder(
        Box::new(console.clone()),
        Box::new(clock),
        Box::new(OsRandom::new()),
        Box::new(clock.scheduler()),
    )
    .arg("wasi-probe")
    .preopen_dir(sandbox.clone(), "/sandbox")
    .build();
    let store = (
        Store::new(engine(), Proc { wasi }),
        console,
        sandbox.clone(),
    );
    let r = run_in(&user_program("wasi-probe"), store);
    let got = format!("{}exit {}\n", r.stdout, r.status().unwrap_or(999));
    drop(r);
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .position(|(g, w)| g != w)
            .unwrap_or(got.lines().count().min(want.lines().count()));
        let show = |s: &str| {
            s.lines()
                .skip(first.saturating_sub(3))
                .take(8)
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{name}: atoll differs from wasmtime at line {}\n--- atoll:\n{}\n--- wasmtime:\n{}",
            first + 1,
            show(&got),
            show(&want)
        );
    }
    assert_eq!(sandbox.open_handles(), 0, "every handle was closed");
}

#[test]
fn stdio_fdstat_filestat_and_rights_of_opened_files_match_wasmtime() {
    parity("stdio_and_rights");
}

#[test]
fn path_open_create_truncate_excl_directory_and_trailing_slashes_match_wasmtime() {
    parity("path_open");
}

#[test]
fn symbolic_links_readlink_follow_nofollow_loops_and_escapes_match_wasmtime() {
    parity("symlinks");
}

#[test]
fn hard_links_renames_unlink_and_rmdir_match_wasmtime() {
    parity("links_and_renames");
}

#[test]
fn trailing_slash_rules_and_set_times_match_wasmtime() {
    parity("trailing_slashes_and_times");
}

#[test]
fn seek_tell_allocate_advise_flags_rights_sync_pread_pwrite_renumber_match_wasmtime() {
    parity("fd_operations");
}

#[test]
fn readdir_cookies_tiny_buffers_and_tmpfs_order_match_wasmtime() {
    parity("readdir");
}

#[test]
fn dot_and_dot_dot_as_the_last_component_of_every_path_call_match_wasmtime() {
    parity("dots");
}
