//! One test per rule where atoll follows wasmtime 51 although Linux or the backends would
//! answer otherwise (`lib.rs` lists the rules).

use super::*;

/// An address far outside the 64 KiB test memory.
const FAR: u64 = 0xFFFF_FF00;

#[test]
fn a_zero_length_read_of_stdin_is_eintr_even_at_the_end_of_input() {
    for stdin in [&b""[..], b"data"] {
        let mut t = T::with_stdin(stdin);
        assert_eq!(t.read(0, 0), Err(Errno::Intr));
    }
    let mut t = T::with_stdin(b"x");
    assert_eq!(t.read(0, 8), Ok(b"x".to_vec()));
    assert_eq!(t.read(0, 8), Ok(Vec::new()));
}

#[test]
fn truncating_a_file_opened_for_reading_only_is_einval_whatever_the_tree() {
    let mut t = T::new();
    t.tmp.insert_file("f", FileData::Static(b"whole")).unwrap();
    let fd = t.open(4, "f", 0, rights::FD_READ, 0).unwrap();
    assert_eq!(
        t.call("fd_filestat_set_size", &[fd.into(), 0]),
        Errno::Inval
    );
    assert_eq!(t.tmp.file_contents("f").unwrap(), b"whole");
    let rw = t
        .open(4, "f", 0, rights::FD_READ | rights::FD_WRITE, 0)
        .unwrap();
    assert_eq!(
        t.call("fd_filestat_set_size", &[rw.into(), 1 << 63]),
        Errno::Inval
    );
    assert_eq!(
        t.call("fd_filestat_set_size", &[rw.into(), 2]),
        Errno::Success
    );
    assert_eq!(t.tmp.file_contents("f").unwrap(), b"wh");
}

#[test]
fn every_change_to_a_read_only_tree_is_eperm_before_the_path_is_looked_at() {
    let mut t = T::new();
    for (call, path) in [
        ("path_create_directory", "nope/d"),
        ("path_create_directory", "etc"),
        ("path_remove_directory", "nope"),
        ("path_unlink_file", "/abs"),
    ] {
        assert_eq!(t.path_call(call, 3, path), Errno::Perm, "{call} {path}");
    }
    assert_eq!(t.open(3, "nope/f", oflags::CREAT, 0, 0), Err(Errno::Perm));
    // Invalid open flags are checked first, and opening for reading works.
    assert_eq!(
        t.open(3, "etc", oflags::DIRECTORY | oflags::CREAT, 0, 0),
        Err(Errno::Inval)
    );
    let fd = t.open(3, "etc/motd", 0, rights::FD_READ, 0).unwrap();
    assert_eq!(t.call("fd_filestat_set_size", &[fd.into(), 0]), Errno::Perm);
    assert_eq!(
        t.call("fd_filestat_set_times", &[fd.into(), 0, 0, 2]),
        Errno::Perm
    );
    assert_eq!(t.call("fd_filestat_set_times", &[3, 0, 0, 2]), Errno::Perm);
}

#[test]
fn removing_a_directory_named_by_dot_or_dot_dot_is_einval_and_escaping_is_eperm() {
    let mut t = T::new();
    t.tmp.insert_dir("a/b").unwrap();
    for path in ["a/b/..", "a/b/.", "a/..", ".", "a/b/../"] {
        assert_eq!(
            t.path_call("path_remove_directory", 4, path),
            Errno::Inval,
            "{path}"
        );
    }
    assert_eq!(t.path_call("path_remove_directory", 4, ".."), Errno::Perm);
    assert_eq!(
        t.path_call("path_remove_directory", 4, "a/b"),
        Errno::Success
    );
}

#[test]
fn readlink_of_an_absolute_target_is_eperm_and_a_relative_one_is_given() {
    let mut t = T::new();
    t.tmp.insert_symlink("abs", "/etc").unwrap();
    t.tmp.insert_symlink("rel", "../x").unwrap();
    let mut readlink = |path: &str| {
        let len = t.put(PATH, path.as_bytes());
        let e = t.call(
            "path_readlink",
            &[4, PATH.into(), len, BUF.into(), 64, OUT.into()],
        );
        (e, t.bytes(BUF, t.u32(OUT) as usize).to_vec())
    };
    assert_eq!(readlink("abs").0, Errno::Perm);
    assert_eq!(readlink("rel"), (Errno::Success, b"../x".to_vec()));
}

#[test]
fn a_subscription_of_an_unknown_event_type_is_einval_not_a_host_error() {
    let mut t = T::new();
    t.put(BUF, &[0; 48]);
    t.put(BUF + 8, &[7]);
    assert_eq!(
        t.call("poll_oneoff", &[BUF.into(), 0x2000, 1, OUT.into()]),
        Errno::Inval
    );
}

#[test]
fn an_argument_outside_its_witx_type_is_a_host_error() {
    let mut t = T::new();
    assert_eq!(
        t.host_error("fd_seek", &[1, 0, 3, OUT.into()]),
        "invalid enum value whence"
    );
    assert_eq!(
        t.host_error("path_open", &[3, 2, PATH.into(), 1, 0, 0, 0, 0, OUT.into()]),
        "invalid flag value"
    );
    assert_eq!(
        t.host_error("proc_raise", &[31]),
        "invalid enum value signal"
    );
    assert_eq!(t.host_error("sock_shutdown", &[1, 4]), "invalid flag value");
    // Before anything else: a closed fd does not matter.
    assert_eq!(
        t.host_error("fd_advise", &[99, 0, 0, 6]),
        "invalid enum value advice"
    );
}

#[test]
fn proc_exit_with_126_or_more_is_a_host_error() {
    let mut t = T::new();
    let f = Function::proc_exit;
    let mut mem = GuestMemory::new(&mut t.mem);
    assert!(matches!(
        dispatch(&mut t.ctx, &mut mem, f, &[126]),
        Err(Stop::HostError(_))
    ));
    assert_eq!(
        dispatch(&mut t.ctx, &mut mem, f, &[125]),
        Err(Stop::Exit(125))
    );
}

#[test]
fn a_pointer_outside_memory_is_a_host_error_only_where_something_is_read_or_written() {
    let mut t = T::new();
    // Nothing read or written: no check at all.
    assert_eq!(t.call("fd_write", &[1, FAR, 0, OUT.into()]), Errno::Success);
    assert_eq!(t.call("random_get", &[FAR, 0]), Errno::Success);
    assert_eq!(
        t.call("fd_readdir", &[3, FAR, 0, 0, OUT.into()]),
        Errno::Success
    );
    // The iovec array is read first; an fd that is not open is EBADF before its buffer is
    // looked at.
    t.put(
        IOV,
        &[(FAR as u32).to_le_bytes(), 8u32.to_le_bytes()].concat(),
    );
    assert_eq!(t.host_error("fd_pread", &[99, FAR, 1, 0, FAR]), OOB);
    assert_eq!(
        t.call("fd_pread", &[99, IOV.into(), 1, 0, FAR]),
        Errno::Badf
    );
    // pread at the end of a file reads nothing, so its buffer outside memory is untouched.
    let fd = t.open(3, "etc/motd", 0, rights::FD_READ, 0).unwrap();
    assert_eq!(
        t.call("fd_pread", &[fd.into(), IOV.into(), 1, 1000, OUT.into()]),
        Errno::Success
    );
    assert_eq!(
        t.host_error("fd_pread", &[fd.into(), IOV.into(), 1, 0, OUT.into()]),
        OOB
    );
    // A string is checked even when empty.
    assert_eq!(t.host_error("path_create_directory", &[4, FAR, 0]), OOB);
}

#[test]
fn a_result_pointer_is_written_only_after_the_operation_succeeded() {
    let mut t = T::new();
    let len = t.put(PATH, b"made");
    let creat = [4, 0, PATH.into(), len, oflags::CREAT.into(), 0, 0, 0, FAR];
    assert_eq!(t.host_error("path_open", &creat), OOB);
    // The file was created before the fd could not be handed back.
    assert!(t.tmp.file_contents("made").is_some());
    // A failed operation never writes its result.
    let missing = t.put(PATH, b"missing");
    let open = [4, 0, PATH.into(), missing, 0, 0, 0, 0, FAR];
    assert_eq!(t.call("path_open", &open), Errno::Noent);
}
