//! The in-process server speaks as QEMU's `local` backend with `security_model=none` does:
//! path-based fids, no link followed, host errnos, the read-only request list.

use std::sync::Arc;

use ninep::errno::*;
use ninep::msg::{AT_REMOVEDIR, NONUNAME, SetAttr, getattr, open};
use ninep::server::{Loopback, Server, ServerOptions};
use ninep::{Client, Error};

struct Fixture {
    dir: tempfile::TempDir,
    server: Arc<Server>,
    client: Client<Loopback>,
    root: u32,
}

fn fixture_with(options: ServerOptions) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let server = Arc::new(Server::new(dir.path(), options).unwrap());
    let client = Client::connect(Loopback::new(server.clone()), 1 << 20).unwrap();
    let (root, _) = client.attach(b"", b"", NONUNAME).unwrap();
    Fixture {
        dir,
        server,
        client,
        root,
    }
}

fn fixture() -> Fixture {
    fixture_with(ServerOptions::default())
}

impl Fixture {
    fn host(&self, rel: &str) -> std::path::PathBuf {
        self.dir.path().join(rel)
    }
}

fn ino(p: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(p).unwrap().ino()
}

#[test]
fn the_msize_offered_is_the_smaller_of_the_two() {
    let f = fixture();
    assert_eq!(f.client.msize(), 512 * 1024);
}

#[test]
fn a_walk_that_stops_part_way_returns_the_qids_walked_and_creates_no_fid() {
    let f = fixture();
    std::fs::create_dir(f.host("a")).unwrap();
    let before = f.server.fid_count();
    let qids = f
        .client
        .walk(f.root, 50, &[b"a", b"missing", b"x"])
        .unwrap();
    assert_eq!(qids.len(), 1);
    assert_eq!(qids[0].path, ino(&f.host("a")));
    assert_eq!(f.server.fid_count(), before);
    // The first name failing is the host's errno.
    assert_eq!(
        f.client.walk(f.root, 50, &[b"missing"]),
        Err(Error::Remote(ENOENT))
    );
}

#[test]
fn walking_dot_dot_from_the_root_stays_at_the_root() {
    let f = fixture();
    let qids = f.client.walk(f.root, 9, &[b"..", b".."]).unwrap();
    assert_eq!(qids[1].path, ino(f.dir.path()));
    assert_eq!(
        f.client.getattr(9, getattr::BASIC).unwrap().qid.path,
        ino(f.dir.path())
    );
}

#[test]
fn empty_names_and_names_with_a_slash_are_refused() {
    let f = fixture();
    std::fs::create_dir(f.host("a")).unwrap();
    std::fs::write(f.host("a/b"), b"").unwrap();
    assert_eq!(
        f.client.walk(f.root, 9, &[b"a/b"]),
        Err(Error::Remote(ENOENT))
    );
    assert_eq!(f.client.walk(f.root, 9, &[b""]), Err(Error::Remote(ENOENT)));
    assert_eq!(
        f.client.mkdir(f.root, b"x/y", 0o755, NONUNAME),
        Err(Error::Remote(ENOENT))
    );
}

#[test]
fn no_walk_leaves_the_root_through_a_symbolic_link() {
    let f = fixture();
    std::os::unix::fs::symlink("/", f.host("escape")).unwrap();
    let qids = f.client.walk(f.root, 9, &[b"escape", b"etc"]).unwrap();
    assert_eq!(qids.len(), 1);
    assert_eq!(qids[0].ty, ninep::wire::QT_SYMLINK);
}

#[test]
fn a_fid_names_a_path_and_goes_stale_when_the_host_renames_it() {
    let f = fixture();
    std::fs::write(f.host("a"), b"").unwrap();
    let a = ino(&f.host("a"));
    f.client.walk(f.root, 9, &[b"a"]).unwrap();
    std::fs::rename(f.host("a"), f.host("b")).unwrap();
    assert_eq!(
        f.client.getattr(9, getattr::BASIC),
        Err(Error::Remote(ENOENT))
    );
    std::fs::write(f.host("a"), b"new").unwrap();
    let now = f.client.getattr(9, getattr::BASIC).unwrap();
    assert_ne!(now.qid.path, a);
    assert_eq!(now.size, 3);
}

#[test]
fn a_rename_through_9p_moves_the_paths_of_the_fids_below_it() {
    let f = fixture();
    std::fs::create_dir_all(f.host("a/b")).unwrap();
    f.client.walk(f.root, 9, &[b"a", b"b"]).unwrap();
    f.client.renameat(f.root, b"a", f.root, b"z").unwrap();
    assert_eq!(
        f.client.getattr(9, getattr::BASIC).unwrap().qid.path,
        ino(&f.host("z/b"))
    );
}

#[test]
fn an_open_fid_keeps_its_file_after_the_name_is_gone() {
    let f = fixture();
    std::fs::write(f.host("a"), b"abc").unwrap();
    f.client.walk(f.root, 9, &[b"a"]).unwrap();
    f.client.lopen(9, open::RDWR).unwrap();
    std::fs::remove_file(f.host("a")).unwrap();
    assert_eq!(f.client.getattr(9, getattr::BASIC).unwrap().size, 3);
    let mut buf = [0u8; 8];
    assert_eq!(f.client.read(9, 0, &mut buf).unwrap(), 3);
    let trunc = SetAttr {
        valid: ninep::msg::setattr::SIZE,
        size: 1,
        ..SetAttr::default()
    };
    f.client.setattr(9, trunc).unwrap();
    assert_eq!(f.client.getattr(9, getattr::BASIC).unwrap().size, 1);
    // An open fid cannot be opened again.
    assert_eq!(f.client.lopen(9, open::RDONLY), Err(Error::Remote(EINVAL)));
}

#[test]
fn lcreate_makes_the_directory_fid_the_new_open_file() {
    let f = fixture();
    f.client.walk(f.root, 9, &[]).unwrap();
    let flags = open::RDWR | open::CREATE | open::EXCL;
    let (qid, iounit) = f.client.lcreate(9, b"n", flags, 0o600, NONUNAME).unwrap();
    assert_eq!(qid.path, ino(&f.host("n")));
    assert!(iounit > 0 && iounit <= f.client.max_io());
    assert_eq!(f.client.write(9, 0, b"xy").unwrap(), 2);
    assert_eq!(std::fs::read(f.host("n")).unwrap(), b"xy");
    f.client.walk(f.root, 10, &[]).unwrap();
    assert_eq!(
        f.client.lcreate(10, b"n", flags, 0o600, NONUNAME),
        Err(Error::Remote(EEXIST))
    );
}

#[test]
fn unlinkat_removes_a_directory_only_with_at_removedir() {
    let f = fixture();
    std::fs::create_dir(f.host("d")).unwrap();
    assert_eq!(
        f.client.unlinkat(f.root, b"d", 0),
        Err(Error::Remote(EISDIR))
    );
    f.client.unlinkat(f.root, b"d", AT_REMOVEDIR).unwrap();
    assert!(!f.host("d").exists());
}

#[test]
fn a_read_never_returns_more_than_msize_allows() {
    let f = fixture_with(ServerOptions {
        max_msize: 8192,
        ..ServerOptions::default()
    });
    std::fs::write(f.host("big"), vec![7u8; 100_000]).unwrap();
    f.client.walk(f.root, 9, &[b"big"]).unwrap();
    f.client.lopen(9, open::RDONLY).unwrap();
    let mut buf = vec![0u8; 100_000];
    assert_eq!(f.client.read(9, 0, &mut buf).unwrap(), 8192 - 24);
}

#[test]
fn statfs_describes_the_host_file_system() {
    let f = fixture();
    let s = f.client.statfs(f.root).unwrap();
    assert!(s.bsize > 0 && s.blocks > 0 && s.namelen > 0);
}

#[test]
fn flush_is_answered() {
    let f = fixture();
    f.client.flush(3).unwrap();
}

#[test]
fn tversion_forgets_every_fid() {
    let f = fixture();
    f.client.walk(f.root, 9, &[]).unwrap();
    assert_eq!(f.server.fid_count(), 2);
    let _again = Client::connect(Loopback::new(f.server.clone()), 8192).unwrap();
    assert_eq!(f.server.fid_count(), 0);
}

#[test]
fn an_unknown_or_malformed_request_gets_an_rlerror_with_its_tag() {
    let f = fixture();
    let mut resp = [0u8; 64];
    let n = f
        .server
        .handle(&[7, 0, 0, 0, 200, 5, 0], &mut resp)
        .unwrap();
    assert_eq!(
        &resp[..n],
        [11, 0, 0, 0, 7, 5, 0, EOPNOTSUPP as u8, 0, 0, 0]
    );
    let n = f
        .server
        .handle(&[9, 0, 0, 0, 120, 6, 0, 1, 2], &mut resp)
        .unwrap();
    assert_eq!(&resp[..n], [11, 0, 0, 0, 7, 6, 0, EINVAL as u8, 0, 0, 0]);
}

#[test]
fn a_reply_that_does_not_fit_the_response_buffer_fails_the_exchange() {
    let f = fixture();
    let mut req = Vec::new();
    ninep::msg::Tmsg::Getattr {
        fid: f.root,
        request_mask: getattr::BASIC,
    }
    .encode(1, &mut req)
    .unwrap();
    assert!(f.server.handle(&req, &mut [0u8; 20]).is_err());
}

#[test]
fn a_read_only_export_answers_erofs_outside_qemus_read_only_list() {
    let f = fixture_with(ServerOptions {
        read_only: true,
        ..ServerOptions::default()
    });
    std::fs::write(f.host("a"), b"abc").unwrap();
    assert_eq!(
        f.client.setattr(f.root, SetAttr::default()),
        Err(Error::Remote(EROFS))
    );
    assert_eq!(
        f.client.mkdir(f.root, b"d", 0o755, NONUNAME),
        Err(Error::Remote(EROFS))
    );
    assert_eq!(
        f.client.unlinkat(f.root, b"a", 0),
        Err(Error::Remote(EROFS))
    );
    f.client.walk(f.root, 9, &[b"a"]).unwrap();
    assert_eq!(f.client.lopen(9, open::RDWR), Err(Error::Remote(EROFS)));
    assert_eq!(
        f.client.lopen(9, open::RDONLY | open::TRUNC),
        Err(Error::Remote(EROFS))
    );
    f.client.lopen(9, open::RDONLY).unwrap();
    let mut buf = [0u8; 3];
    assert_eq!(f.client.read(9, 0, &mut buf).unwrap(), 3);
    f.client.fsync(9, false).unwrap();
    assert!(f.client.statfs(f.root).is_ok());
}

#[test]
fn a_host_tool_mounts_a_directory_in_one_call() {
    use wasi_p1::FileSystem;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("f"), b"x").unwrap();
    let fs =
        ninep::server::mount(dir.path(), ServerOptions::default(), Default::default()).unwrap();
    assert_eq!(
        fs.lookup(fs.root(), "f").unwrap(),
        ino(&dir.path().join("f"))
    );
    let missing = dir.path().join("missing");
    assert!(ninep::server::mount(&missing, ServerOptions::default(), Default::default()).is_err());
}
