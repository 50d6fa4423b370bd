//! Tests of [`MemFs`] against the answers Linux (tmpfs) gives.

use super::*;

const RW: Access = Access {
    read: true,
    write: true,
};
#[allow(dead_code)]
const RO: Access = Access {
    read: true,
    write: false,
};

#[test]
fn a_static_file_is_read_in_place_and_copied_on_first_write() {
    static HELLO: &[u8] = b"hello";
    let fs = MemFs::new(7);
    let f = fs
        .insert_file("/etc/motd", FileData::Static(HELLO))
        .unwrap();
    let etc = fs.lookup(fs.root(), "etc").unwrap();
    assert_eq!(fs.lookup(etc, "motd"), Ok(f));
    let h = fs.open(f, RW).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(fs.read(h, 1, &mut buf), Ok(4));
    assert_eq!(&buf[..4], b"ello");
    assert_eq!(fs.read(h, 99, &mut buf), Ok(0));
    assert_eq!(fs.used_bytes(), 0);
    assert_eq!(fs.write(h, 7, b"!"), Ok(1));
    assert_eq!(fs.file_contents("etc/motd").unwrap(), b"hello\0\0!");
    assert_eq!(fs.used_bytes(), 8);
    fs.close(h);
    assert_eq!(fs.remove_dir(fs.root(), "etc"), Err(Errno::Notempty));
    assert_eq!(fs.unlink(fs.root(), "etc"), Err(Errno::Isdir));
    fs.unlink(etc, "motd").unwrap();
    assert_eq!(fs.used_bytes(), 0);
    fs.remove_dir(fs.root(), "etc").unwrap();
    assert_eq!(fs.lookup(fs.root(), "etc"), Err(Errno::Noent));
    assert_eq!(fs.node_count(), 1);
}

#[test]
fn capacity_file_size_and_read_only_limits_hold() {
    let fs = MemFs::new(1).with_capacity(10);
    let (_, h) = fs.create_file(fs.root(), "a", RW).unwrap();
    assert_eq!(fs.write(h, 0, &[1; 11]), Err(Errno::Nospc));
    assert_eq!(fs.write(h, 0, &[1; 10]), Ok(10));
    assert_eq!(fs.write(h, u64::MAX, &[1]), Err(Errno::Fbig));
    assert_eq!(fs.set_len(h, MAX_FILE_SIZE + 1), Err(Errno::Fbig));
    fs.set_len(h, 2).unwrap();
    assert_eq!(fs.used_bytes(), 2);
    assert_eq!(fs.create_file(fs.root(), "a", RW), Err(Errno::Exist));
    assert_eq!(fs.create_file(fs.root(), "x/y", RW), Err(Errno::Inval));
    fs.set_read_only(true);
    assert_eq!(fs.write(h, 0, b"x"), Err(Errno::Rofs));
    assert_eq!(fs.create_dir(fs.root(), "d"), Err(Errno::Rofs));
    fs.close(h);
}

#[test]
fn rename_follows_posix_rules() {
    let fs = MemFs::new(1);
    let r = fs.root();
    let d = fs.create_dir(r, "d").unwrap();
    let e = fs.create_dir(d, "e").unwrap();
    let (_, h) = fs.create_file(r, "f", RW).unwrap();
    fs.close(h);
    assert_eq!(fs.rename(r, "d", e, "x"), Err(Errno::Inval));
    assert_eq!(fs.rename(r, "d", d, "x"), Err(Errno::Inval));
    assert_eq!(fs.rename(r, "f", r, "d"), Err(Errno::Isdir));
    assert_eq!(fs.rename(r, "d", r, "f"), Err(Errno::Notdir));
    fs.create_dir(r, "empty").unwrap();
    assert_eq!(fs.rename(r, "empty", d, "e2"), Ok(()));
    assert_eq!(fs.rename(d, "e2", r, "d"), Err(Errno::Notempty));
    fs.rename(r, "f", e, "g").unwrap();
    assert!(fs.lookup(e, "g").is_ok());
    assert_eq!(fs.lookup(r, "f"), Err(Errno::Noent));
    assert_eq!(fs.stat(r).unwrap().nlink, 3);
    assert_eq!(fs.stat(d).unwrap().nlink, 4);
}
