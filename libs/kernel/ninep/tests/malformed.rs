//! Malformed and hostile input: truncated messages, counts past the end, bad size fields,
//! unknown types, replies that do not answer the request. Every case is an error, never a
//! panic.

use std::sync::Mutex;

use ninep::msg::{Rmsg, Tmsg, split_frame};
use ninep::{Client, Error, Transport, TransportError, WireError};

fn encode_r(r: &Rmsg<'_>, tag: u16) -> Vec<u8> {
    let mut v = Vec::new();
    r.encode(tag, &mut v).unwrap();
    v
}

/// Replies that exercise every decoder branch.
fn sample_replies() -> Vec<Vec<u8>> {
    use ninep::msg::{Attr, StatFs};
    use ninep::wire::Qid;
    let q = Qid {
        ty: 0x80,
        version: 1,
        path: 2,
    };
    [
        Rmsg::Lerror { ecode: 2 },
        Rmsg::Version {
            msize: 8192,
            version: b"9P2000.L",
        },
        Rmsg::Attach { qid: q },
        Rmsg::Walk { qids: vec![q, q] },
        Rmsg::Lopen { qid: q, iounit: 1 },
        Rmsg::Lcreate { qid: q, iounit: 1 },
        Rmsg::Read { data: b"data" },
        Rmsg::Write { count: 4 },
        Rmsg::Getattr(Attr {
            qid: q,
            ..Attr::default()
        }),
        Rmsg::Readdir { data: &[0; 30] },
        Rmsg::Mkdir { qid: q },
        Rmsg::Symlink { qid: q },
        Rmsg::Readlink { target: b"target" },
        Rmsg::Statfs(StatFs::default()),
    ]
    .iter()
    .map(|r| encode_r(r, 1))
    .collect()
}

#[test]
fn every_truncation_of_every_reply_is_an_error() {
    for full in sample_replies() {
        for len in 0..full.len() {
            // The size field still claims the full length: the buffer is short.
            assert!(Rmsg::decode(&full[..len]).is_err(), "{full:?} cut at {len}");
            // The size field claims the cut length: a field is missing.
            let mut cut = full[..len].to_vec();
            if len >= 4 {
                cut[..4].copy_from_slice(&(len as u32).to_le_bytes());
                assert!(Rmsg::decode(&cut).is_err(), "{full:?} resized to {len}");
            }
        }
    }
}

#[test]
fn every_truncation_of_every_request_is_an_error() {
    let reqs = [
        Tmsg::Walk {
            fid: 1,
            newfid: 2,
            names: vec![b"a", b"bcd"],
        },
        Tmsg::Write {
            fid: 1,
            offset: 9,
            data: b"xyz",
        },
        Tmsg::Renameat {
            olddirfid: 1,
            oldname: b"a",
            newdirfid: 2,
            newname: b"b",
        },
        Tmsg::Lcreate {
            fid: 1,
            name: b"f",
            flags: 0,
            mode: 0,
            gid: 0,
        },
    ];
    for t in reqs {
        let mut full = Vec::new();
        t.encode(3, &mut full).unwrap();
        for len in 0..full.len() {
            let mut cut = full[..len].to_vec();
            if len >= 4 {
                cut[..4].copy_from_slice(&(len as u32).to_le_bytes());
            }
            assert!(Tmsg::decode(&cut).is_err(), "{t:?} cut at {len}");
        }
    }
}

#[test]
fn a_data_count_past_the_end_of_the_message_is_a_bad_count() {
    // Rread claiming 0x1000 bytes with 2 present.
    let msg = [13, 0, 0, 0, 117, 1, 0, 0x00, 0x10, 0, 0, b'h', b'i'];
    assert_eq!(Rmsg::decode(&msg), Err(WireError::BadCount));
    // The largest count there is.
    let msg = [11, 0, 0, 0, 117, 1, 0, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(Rmsg::decode(&msg), Err(WireError::BadCount));
}

#[test]
fn a_walk_reply_with_more_qids_than_names_allowed_or_present_is_a_bad_count() {
    let mut msg = vec![0, 0, 0, 0, 111, 1, 0, 17, 0];
    msg.extend(std::iter::repeat_n(0u8, 17 * 13));
    let len = msg.len() as u32;
    msg[..4].copy_from_slice(&len.to_le_bytes());
    assert_eq!(Rmsg::decode(&msg), Err(WireError::BadCount));
    let msg = [
        9 + 13,
        0,
        0,
        0,
        111,
        1,
        0,
        3,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
    ];
    assert_eq!(Rmsg::decode(&msg), Err(WireError::BadCount));
}

#[test]
fn a_walk_request_with_more_names_than_bytes_is_a_bad_count() {
    let msg = [17, 0, 0, 0, 110, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff];
    assert_eq!(Tmsg::decode(&msg), Err(WireError::BadCount));
}

#[test]
fn a_string_longer_than_the_message_is_truncated() {
    // Rreadlink whose target claims 200 bytes.
    let msg = [10, 0, 0, 0, 23, 1, 0, 200, 0, b't'];
    assert_eq!(Rmsg::decode(&msg), Err(WireError::Truncated));
}

#[test]
fn size_fields_below_the_header_or_past_the_buffer_are_rejected() {
    assert_eq!(
        split_frame(&[6, 0, 0, 0, 121, 1, 0]),
        Err(WireError::BadSize)
    );
    assert_eq!(
        split_frame(&[0, 0, 0, 0, 121, 1, 0]),
        Err(WireError::BadSize)
    );
    assert_eq!(
        split_frame(&[8, 0, 0, 0, 121, 1, 0]),
        Err(WireError::Truncated)
    );
    assert_eq!(
        split_frame(&[0xff, 0xff, 0xff, 0xff, 121, 1, 0]),
        Err(WireError::Truncated)
    );
    assert_eq!(split_frame(&[7, 0, 0]), Err(WireError::Truncated));
}

#[test]
fn bytes_after_the_last_field_are_trailing_bytes() {
    let msg = [8, 0, 0, 0, 121, 1, 0, 0];
    assert_eq!(Rmsg::decode(&msg), Err(WireError::TrailingBytes));
}

#[test]
fn a_buffer_longer_than_the_size_field_is_read_up_to_the_size() {
    let msg = [7, 0, 0, 0, 121, 9, 0, 0xaa, 0xbb];
    assert_eq!(Rmsg::decode(&msg), Ok((9, Rmsg::Clunk)));
}

#[test]
fn unknown_and_wrong_direction_types_are_rejected() {
    assert_eq!(
        Rmsg::decode(&[7, 0, 0, 0, 200, 1, 0]),
        Err(WireError::UnknownType(200))
    );
    // A request type where a reply is expected, and the other way round.
    assert_eq!(
        Rmsg::decode(&[11, 0, 0, 0, 120, 1, 0, 1, 0, 0, 0]),
        Err(WireError::UnknownType(120))
    );
    assert_eq!(
        Tmsg::decode(&[7, 0, 0, 0, 121, 1, 0]),
        Err(WireError::UnknownType(121))
    );
}

#[test]
fn a_name_too_long_for_its_length_prefix_does_not_encode() {
    let long = vec![b'a'; 70_000];
    let t = Tmsg::Mkdir {
        dfid: 0,
        name: &long,
        mode: 0,
        gid: 0,
    };
    assert_eq!(t.encode(1, &mut Vec::new()), Err(WireError::TooLong));
}

#[test]
fn random_bytes_never_panic_any_decoder() {
    // A fixed-seed xorshift generator: reproducible.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..20_000 {
        let len = (next() % 64) as usize;
        let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if len >= 5 {
            // Mostly plausible headers, so the field decoders run.
            buf[..4].copy_from_slice(&(len as u32).to_le_bytes());
            buf[4] = [101, 105, 111, 13, 117, 25, 41, 23, 9, 7, 110, 14, 26][next() as usize % 13];
        }
        let _ = Rmsg::decode(&buf);
        let _ = Tmsg::decode(&buf);
        for e in ninep::msg::DirEntries::new(&buf) {
            let _ = e;
        }
    }
}

/// A transport that answers from a script, whatever is asked.
struct Scripted {
    replies: Mutex<Vec<Vec<u8>>>,
    /// Overrides the length the transport reports.
    claim: Option<usize>,
}

impl Scripted {
    fn new(replies: Vec<Vec<u8>>) -> Self {
        Scripted {
            replies: Mutex::new(replies),
            claim: None,
        }
    }
}

impl Transport for Scripted {
    fn exchange(&self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let mut replies = self.replies.lock().unwrap();
        if replies.is_empty() {
            return Err(TransportError("script ended"));
        }
        let mut r = replies.remove(0);
        // Answer with the request's tag unless the script says otherwise (tag 0xeeee).
        if r.len() >= 7 && r[5..7] == [0xee, 0xee] {
            r[5..7].copy_from_slice(&[0xaa, 0xaa]);
        } else if r.len() >= 7 && request.len() >= 7 {
            r[5..7].copy_from_slice(&request[5..7]);
        }
        let n = r.len().min(response.len());
        response[..n].copy_from_slice(&r[..n]);
        Ok(self.claim.unwrap_or(n))
    }
}

fn rversion(msize: u32, version: &[u8]) -> Vec<u8> {
    encode_r(&Rmsg::Version { msize, version }, 0xffff)
}

fn connected(replies: Vec<Vec<u8>>) -> Client<Scripted> {
    let mut all = vec![rversion(65536, b"9P2000.L")];
    all.extend(replies);
    Client::connect(Scripted::new(all), 1 << 20).unwrap()
}

#[test]
fn the_client_accepts_a_smaller_msize_and_caps_a_larger_one() {
    let c = Client::connect(Scripted::new(vec![rversion(8192, b"9P2000.L")]), 65536).unwrap();
    assert_eq!(c.msize(), 8192);
    let c = Client::connect(Scripted::new(vec![rversion(1 << 30, b"9P2000.L")]), 65536).unwrap();
    assert_eq!(c.msize(), 65536);
}

#[test]
fn a_server_without_9p2000_l_or_with_a_tiny_msize_is_unsupported() {
    let r = Client::connect(Scripted::new(vec![rversion(8192, b"unknown")]), 65536);
    assert_eq!(r.err(), Some(Error::Unsupported));
    let r = Client::connect(Scripted::new(vec![rversion(512, b"9P2000.L")]), 65536);
    assert_eq!(r.err(), Some(Error::Unsupported));
}

#[test]
fn a_reply_with_another_tag_is_a_protocol_error() {
    let c = connected(vec![vec![7, 0, 0, 0, 121, 0xee, 0xee]]);
    assert!(matches!(c.clunk(1), Err(Error::Protocol(_))));
}

#[test]
fn a_reply_of_the_wrong_type_is_a_protocol_error() {
    let c = connected(vec![encode_r(&Rmsg::Fsync, 0)]);
    assert!(matches!(c.clunk(1), Err(Error::Protocol(_))));
}

#[test]
fn a_read_reply_with_more_data_than_asked_is_a_protocol_error() {
    let c = connected(vec![encode_r(&Rmsg::Read { data: b"abcdef" }, 0)]);
    let mut buf = [0u8; 4];
    // The reply does not even fit the buffer sized for 4 bytes: it arrives cut short.
    assert!(c.read(1, 0, &mut buf).is_err());
    let c = connected(vec![encode_r(&Rmsg::Write { count: 9 }, 0)]);
    assert!(matches!(c.write(1, 0, b"abc"), Err(Error::Protocol(_))));
}

#[test]
fn a_transport_that_claims_more_bytes_than_the_buffer_holds_is_a_protocol_error() {
    let mut t = Scripted::new(vec![rversion(65536, b"9P2000.L")]);
    t.claim = Some(1 << 20);
    assert!(matches!(Client::connect(t, 65536), Err(Error::Protocol(_))));
}

#[test]
fn an_rlerror_is_the_servers_errno() {
    let c = connected(vec![encode_r(&Rmsg::Lerror { ecode: 39 }, 0)]);
    assert_eq!(c.unlinkat(0, b"d", 0x200), Err(Error::Remote(39)));
}

#[test]
fn a_transport_failure_is_reported_and_the_fid_it_may_have_created_is_not_reused() {
    let c = connected(vec![]);
    let before = c.fids_in_use();
    let r = c.walk_new(0, &[b"a"]);
    assert!(matches!(r, Err(f) if matches!(f.error, Error::Transport(_))));
    assert_eq!(c.fids_in_use(), before + 1);
}
