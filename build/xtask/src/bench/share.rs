//! Share throughput: `user/share-io` writes 256 MiB into a host directory shared over
//! virtio-9p and reads it back (exactly as `just exec --dir` runs it), and the same copy done
//! natively on the host in the same directory, for the table's `share` rows.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use super::Record;
use crate::config::Config;
use crate::exec::{self, Io, Request, Share};
use crate::userland::Userland;

/// The size of the copy.
pub const MIB: u64 = 256;
const CHUNK: usize = 1 << 20;

/// `share.write` and `share.read` (MiB/s) of atoll on `config`'s machine, in `column`.
pub fn guest(
    root: &Path,
    config: &Config,
    column: &str,
    userland: &Userland,
) -> Result<Vec<Record>, String> {
    let module = userland
        .programs
        .iter()
        .find(|(n, _)| n == "share-io")
        .map(|(_, b)| b.clone())
        .ok_or("user/build.sh did not build share-io")?;
    let dir = scratch(root, column)?;
    let req = Request {
        module,
        name: "share-io".into(),
        args: vec!["/share".into(), MIB.to_string()],
        dirs: vec![Share {
            host: dir.clone(),
            guest: "/share".into(),
            read_only: false,
        }],
        argv0: Some("share-io.wasm".into()),
        ..Request::default()
    };
    let boot = exec::Boot {
        config,
        userland,
        release: false,
        timeout: Some(std::time::Duration::from_secs(900)),
        log: None,
    };
    let out = exec::session(
        root,
        &boot,
        &[req],
        Io::Capture {
            stdin: vec![vec![]],
        },
    )?
    .remove(0);
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    let (w, r) = parse(&text).ok_or_else(|| {
        format!(
            "share-io on {column}: no result (exit {:?}): {}{}",
            out.code,
            text,
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Ok(records(column, "atoll", w, r))
}

/// The same copy natively on the host (into the same target directory's file system).
pub fn native(root: &Path) -> Result<Vec<Record>, String> {
    let dir = scratch(root, "native")?;
    let path = dir.join("share-io.bin");
    let io = |e: std::io::Error| format!("{}: {e}", path.display());
    let mut buf = vec![0u8; CHUNK];
    let start = Instant::now();
    let mut f = std::fs::File::create(&path).map_err(io)?;
    for chunk in 0..MIB {
        fill(&mut buf, chunk);
        f.write_all(&buf).map_err(io)?;
    }
    f.sync_all().map_err(io)?;
    drop(f);
    let write = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut f = std::fs::File::open(&path).map_err(io)?;
    let mut want = vec![0u8; CHUNK];
    for chunk in 0..MIB {
        f.read_exact(&mut buf).map_err(io)?;
        fill(&mut want, chunk);
        if buf != want {
            return Err(format!("{}: MiB {chunk} read back wrong", path.display()));
        }
    }
    let read = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(records(
        "host",
        "native",
        MIB as f64 / write,
        MIB as f64 / read,
    ))
}

/// The pattern `user/share-io` writes (the same bytes, so both sides do the same work).
fn fill(buf: &mut [u8], chunk: u64) {
    let base = chunk * CHUNK as u64;
    for (i, b) in buf.iter_mut().enumerate() {
        let offset = base + i as u64;
        *b = (offset ^ (offset >> 20).wrapping_mul(31)) as u8;
    }
}

fn scratch(root: &Path, name: &str) -> Result<std::path::PathBuf, String> {
    let dir = crate::util::target_dir(root).join("bench/share").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// `share-io: N MiB write W MiB/s read R MiB/s` → (W, R).
fn parse(text: &str) -> Option<(f64, f64)> {
    let line = text.lines().find(|l| l.starts_with("share-io: "))?;
    let words: Vec<&str> = line.split_whitespace().collect();
    let after = |key: &str| -> Option<f64> {
        let i = words.iter().position(|w| *w == key)?;
        words.get(i + 1)?.parse().ok()
    };
    Some((after("write")?, after("read")?))
}

fn records(column: &str, subject: &str, write: f64, read: f64) -> Vec<Record> {
    [("share.write", write), ("share.read", read)]
        .into_iter()
        .map(|(measure, value)| Record {
            column: column.into(),
            measure: measure.into(),
            subject: subject.into(),
            value,
            unit: "MiB/s".into(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn share_io_output_parses() {
        assert_eq!(
            parse("share-io: 256 MiB write 53.2 MiB/s read 20.1 MiB/s\n"),
            Some((53.2, 20.1))
        );
        assert_eq!(parse("nothing"), None);
    }
}
