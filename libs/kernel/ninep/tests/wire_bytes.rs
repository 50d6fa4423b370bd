//! Byte-exact encoding and decoding of every message against hand-assembled byte strings
//! (layouts from the 9P2000.L spec: Linux `include/net/9p/9p.h`, QEMU `hw/9pfs/9p.c`), as
//! one recorded conversation: each request with its reply.

use ninep::msg::{Attr, Rmsg, SetAttr, StatFs, Tmsg, getattr, setattr};
use ninep::wire::Qid;

/// Bytes from a hex string with any spacing and `|` separators.
fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert_eq!(digits.len() % 2, 0, "odd hex: {s}");
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

const NONE: u32 = 0xffff_ffff;

/// `(tag, request, its bytes, reply, its bytes)`.
type Exchange = (u16, Tmsg<'static>, Vec<u8>, Rmsg<'static>, Vec<u8>);

fn conversation() -> Vec<Exchange> {
    let dir2 = Qid {
        ty: 0x80,
        version: 0,
        path: 2,
    };
    let file = Qid {
        ty: 0,
        version: 0,
        path: 0x11,
    };
    vec![
        (
            0xffff,
            Tmsg::Version {
                msize: 8192,
                version: b"9P2000.L",
            },
            hex("15000000 64 ffff 00200000 0800 39503230 30302e4c"),
            Rmsg::Version {
                msize: 8192,
                version: b"9P2000.L",
            },
            hex("15000000 65 ffff 00200000 0800 39503230 30302e4c"),
        ),
        (
            1,
            Tmsg::Attach {
                fid: 0,
                afid: NONE,
                uname: b"",
                aname: b"",
                n_uname: NONE,
            },
            hex("17000000 68 0100 00000000 ffffffff 0000 0000 ffffffff"),
            Rmsg::Attach { qid: dir2 },
            hex("14000000 69 0100 | 80 00000000 0200000000000000"),
        ),
        (
            2,
            Tmsg::Walk {
                fid: 0,
                newfid: 1,
                names: vec![b"a", b"bc"],
            },
            hex("18000000 6e 0200 00000000 01000000 0200 | 0100 61 | 0200 6263"),
            Rmsg::Walk {
                qids: vec![
                    Qid {
                        ty: 0x80,
                        version: 1,
                        path: 0x10,
                    },
                    Qid {
                        ty: 0,
                        version: 2,
                        path: 0x11,
                    },
                ],
            },
            hex(
                "23000000 6f 0200 0200 | 80 01000000 1000000000000000 | 00 02000000 1100000000000000",
            ),
        ),
        (
            3,
            Tmsg::Lopen { fid: 1, flags: 2 },
            hex("0f000000 0c 0300 01000000 02000000"),
            Rmsg::Lopen {
                qid: file,
                iounit: 0x1000,
            },
            hex("18000000 0d 0300 | 00 00000000 1100000000000000 | 00100000"),
        ),
        (
            4,
            Tmsg::Lcreate {
                fid: 1,
                name: b"f",
                flags: 0o302,
                mode: 0o644,
                gid: NONE,
            },
            hex("1a000000 0e 0400 01000000 0100 66 c2000000 a4010000 ffffffff"),
            Rmsg::Lcreate {
                qid: Qid { path: 0x12, ..file },
                iounit: 0,
            },
            hex("18000000 0f 0400 | 00 00000000 1200000000000000 | 00000000"),
        ),
        (
            5,
            Tmsg::Read {
                fid: 1,
                offset: 0x100,
                count: 0x200,
            },
            hex("17000000 74 0500 01000000 0001000000000000 00020000"),
            Rmsg::Read { data: b"hi" },
            hex("0d000000 75 0500 02000000 6869"),
        ),
        (
            6,
            Tmsg::Write {
                fid: 1,
                offset: 0,
                data: b"abc",
            },
            hex("1a000000 76 0600 01000000 0000000000000000 03000000 616263"),
            Rmsg::Write { count: 3 },
            hex("0b000000 77 0600 03000000"),
        ),
        (
            7,
            Tmsg::Clunk { fid: 1 },
            hex("0b000000 78 0700 01000000"),
            Rmsg::Clunk,
            hex("07000000 79 0700"),
        ),
        (
            8,
            Tmsg::Getattr {
                fid: 1,
                request_mask: getattr::BASIC,
            },
            hex("13000000 18 0800 01000000 ff07000000000000"),
            Rmsg::Getattr(Attr {
                valid: getattr::BASIC,
                qid: file,
                mode: 0o100644,
                uid: 1000,
                gid: 1000,
                nlink: 1,
                rdev: 0,
                size: 5,
                blksize: 4096,
                blocks: 8,
                atime_sec: 1,
                atime_nsec: 2,
                mtime_sec: 3,
                mtime_nsec: 4,
                ctime_sec: 5,
                ctime_nsec: 6,
                btime_sec: 0,
                btime_nsec: 0,
                generation: 0,
                data_version: 0,
            }),
            hex("a0000000 19 0800
                 ff07000000000000
                 00 00000000 1100000000000000
                 a4810000 e8030000 e8030000
                 0100000000000000 0000000000000000 0500000000000000
                 0010000000000000 0800000000000000
                 0100000000000000 0200000000000000
                 0300000000000000 0400000000000000
                 0500000000000000 0600000000000000
                 0000000000000000 0000000000000000
                 0000000000000000 0000000000000000"),
        ),
        (
            9,
            Tmsg::Setattr {
                fid: 1,
                attr: SetAttr {
                    valid: setattr::ATIME | setattr::ATIME_SET | setattr::MTIME,
                    atime_sec: 100_000_000,
                    atime_nsec: 7,
                    ..SetAttr::default()
                },
            },
            hex("43000000 1a 0900 01000000 b0000000
                 00000000 00000000 00000000 0000000000000000
                 00e1f50500000000 0700000000000000
                 0000000000000000 0000000000000000"),
            Rmsg::Setattr,
            hex("07000000 1b 0900"),
        ),
        (
            10,
            Tmsg::Readdir {
                fid: 1,
                offset: 0,
                count: 0x1000,
            },
            hex("17000000 28 0a00 01000000 0000000000000000 00100000"),
            Rmsg::Readdir { data: &[] },
            hex("0b000000 29 0a00 00000000"),
        ),
        (
            11,
            Tmsg::Mkdir {
                dfid: 0,
                name: b"d",
                mode: 0o755,
                gid: NONE,
            },
            hex("16000000 48 0b00 00000000 0100 64 ed010000 ffffffff"),
            Rmsg::Mkdir {
                qid: Qid { path: 0x13, ..dir2 },
            },
            hex("14000000 49 0b00 | 80 00000000 1300000000000000"),
        ),
        (
            12,
            Tmsg::Symlink {
                fid: 0,
                name: b"l",
                target: b"t",
                gid: NONE,
            },
            hex("15000000 10 0c00 00000000 0100 6c 0100 74 ffffffff"),
            Rmsg::Symlink {
                qid: Qid {
                    ty: 0x02,
                    version: 0,
                    path: 0x14,
                },
            },
            hex("14000000 11 0c00 | 02 00000000 1400000000000000"),
        ),
        (
            13,
            Tmsg::Readlink { fid: 2 },
            hex("0b000000 16 0d00 02000000"),
            Rmsg::Readlink { target: b"t" },
            hex("0a000000 17 0d00 0100 74"),
        ),
        (
            14,
            Tmsg::Link {
                dfid: 0,
                fid: 2,
                name: b"h",
            },
            hex("12000000 46 0e00 00000000 02000000 0100 68"),
            Rmsg::Link,
            hex("07000000 47 0e00"),
        ),
        (
            15,
            Tmsg::Unlinkat {
                dirfid: 0,
                name: b"d",
                flags: 0x200,
            },
            hex("12000000 4c 0f00 00000000 0100 64 00020000"),
            Rmsg::Unlinkat,
            hex("07000000 4d 0f00"),
        ),
        (
            16,
            Tmsg::Renameat {
                olddirfid: 0,
                oldname: b"a",
                newdirfid: 3,
                newname: b"b",
            },
            hex("15000000 4a 1000 00000000 0100 61 03000000 0100 62"),
            Rmsg::Renameat,
            hex("07000000 4b 1000"),
        ),
        (
            17,
            Tmsg::Fsync {
                fid: 1,
                datasync: 1,
            },
            hex("0f000000 32 1100 01000000 01000000"),
            Rmsg::Fsync,
            hex("07000000 33 1100"),
        ),
        (
            18,
            Tmsg::Statfs { fid: 0 },
            hex("0b000000 08 1200 00000000"),
            Rmsg::Statfs(StatFs {
                fs_type: 0xef53,
                bsize: 4096,
                blocks: 100,
                bfree: 50,
                bavail: 40,
                files: 1000,
                ffree: 900,
                fsid: 0x1234,
                namelen: 255,
            }),
            hex("43000000 09 1200 53ef0000 00100000
                 6400000000000000 3200000000000000 2800000000000000
                 e803000000000000 8403000000000000 3412000000000000 ff000000"),
        ),
        (
            19,
            Tmsg::Flush { oldtag: 5 },
            hex("09000000 6c 1300 0500"),
            Rmsg::Flush,
            hex("07000000 6d 1300"),
        ),
        (
            20,
            Tmsg::Unlinkat {
                dirfid: 0,
                name: b"missing",
                flags: 0,
            },
            hex("18000000 4c 1400 00000000 0700 6d697373696e67 00000000"),
            Rmsg::Lerror { ecode: 2 },
            hex("0b000000 07 1400 02000000"),
        ),
    ]
}

#[test]
fn every_request_encodes_to_the_bytes_of_the_spec() {
    for (tag, t, bytes, _, _) in conversation() {
        let mut out = Vec::new();
        t.encode(tag, &mut out).unwrap();
        assert_eq!(out, bytes, "{t:?}");
    }
}

#[test]
fn every_request_decodes_from_the_bytes_of_the_spec() {
    for (tag, t, bytes, _, _) in conversation() {
        assert_eq!(Tmsg::decode(&bytes).unwrap(), (tag, t));
    }
}

#[test]
fn every_reply_encodes_to_the_bytes_of_the_spec() {
    for (tag, _, _, r, bytes) in conversation() {
        let mut out = Vec::new();
        r.encode(tag, &mut out).unwrap();
        assert_eq!(out, bytes, "{r:?}");
    }
}

#[test]
fn every_reply_decodes_from_the_bytes_of_the_spec() {
    for (tag, _, _, r, bytes) in conversation() {
        assert_eq!(Rmsg::decode(&bytes).unwrap(), (tag, r));
    }
}

#[test]
fn every_reply_fits_the_capacity_its_request_announces() {
    for (_, t, _, r, bytes) in conversation() {
        let cap = t.reply_capacity(8192);
        assert!(
            bytes.len() <= cap,
            "{r:?} is {} bytes, capacity {cap}",
            bytes.len()
        );
        // An Rlerror always fits.
        assert!(cap >= 11);
    }
}

#[test]
fn every_reply_type_is_its_request_type_plus_one() {
    for (_, t, _, r, _) in conversation() {
        if !matches!(r, Rmsg::Lerror { .. }) {
            assert_eq!(r.ty(), t.ty() + 1);
        }
    }
}

#[test]
fn readdir_entries_encode_and_decode_as_qid_offset_type_name() {
    use ninep::msg::{DirEntries, RawDirEntry};
    let bytes = hex("80 00000000 0200000000000000 0100000000000000 04 0100 2e
         00 00000000 1100000000000000 ffffffffffffff7f 08 0300 616263");
    let entries = [
        RawDirEntry {
            qid: Qid {
                ty: 0x80,
                version: 0,
                path: 2,
            },
            offset: 1,
            dtype: 4,
            name: b".",
        },
        RawDirEntry {
            qid: Qid {
                ty: 0,
                version: 0,
                path: 0x11,
            },
            offset: i64::MAX as u64,
            dtype: 8,
            name: b"abc",
        },
    ];
    let mut out = Vec::new();
    for e in &entries {
        e.encode(&mut out).unwrap();
        assert_eq!(RawDirEntry::encoded_len(e.name.len()), 24 + e.name.len());
    }
    assert_eq!(out, bytes);
    let decoded: Vec<_> = DirEntries::new(&bytes).map(Result::unwrap).collect();
    assert_eq!(decoded, entries);
}
