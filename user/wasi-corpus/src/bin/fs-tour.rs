//! `fs-tour`: the everyday `std::fs` calls a program makes, on the fixture `basic/` at `/data`:
//! read_to_string, write, copy, append, create_dir_all, read_dir (sorted), metadata, rename,
//! remove_file, remove_dir_all, with each result or error.

use std::fs;
use std::io::Write;

fn main() {
    corpus::show_io(
        "read hello.txt",
        fs::read_to_string("/data/hello.txt").map(|s| s.escape_default().to_string()),
    );
    corpus::show_io(
        "read a missing file",
        fs::read_to_string("/data/missing.txt").map(|s| s.len()),
    );
    corpus::show_io(
        "read a directory",
        fs::read_to_string("/data/sub").map(|s| s.len()),
    );
    corpus::step_io("write out.txt", fs::write("/data/out.txt", "line 1\n"));
    let append = fs::OpenOptions::new()
        .append(true)
        .open("/data/out.txt")
        .and_then(|mut f| f.write_all(b"line 2\n"));
    corpus::step_io("append to out.txt", append);
    corpus::show_io("copy out.txt", fs::copy("/data/out.txt", "/data/copy.txt"));
    corpus::show_io("copy a directory", fs::copy("/data/sub", "/data/copy-dir"));
    corpus::step_io("create_dir_all x/y/z", fs::create_dir_all("/data/x/y/z"));
    corpus::step_io(
        "write x/y/z/deep.txt",
        fs::write("/data/x/y/z/deep.txt", "deep"),
    );
    corpus::step_io(
        "rename copy.txt",
        fs::rename("/data/copy.txt", "/data/x/renamed.txt"),
    );
    corpus::step_io("remove_file empty.txt", fs::remove_file("/data/empty.txt"));
    corpus::step_io("remove_dir sub (not empty)", fs::remove_dir("/data/sub"));
    corpus::step_io("remove_dir_all sub", fs::remove_dir_all("/data/sub"));
    let meta = fs::metadata("/data/out.txt").map(|m| {
        format!(
            "file={} len={} readonly={}",
            m.is_file(),
            m.len(),
            m.permissions().readonly()
        )
    });
    corpus::show_io("metadata out.txt", meta);
    let list = fs::read_dir("/data").map(|rd| {
        let mut v: Vec<String> = rd
            .filter_map(Result::ok)
            .map(|e| {
                format!(
                    "{}{}",
                    e.file_name().to_string_lossy(),
                    if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                        "/"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        v.sort();
        v.join(" ")
    });
    corpus::show_io("read_dir /data", list);
    corpus::show_io(
        "read out.txt",
        fs::read_to_string("/data/out.txt").map(|s| s.escape_default().to_string()),
    );
    let mut perms = fs::metadata("/data/out.txt").map(|m| m.permissions());
    if let Ok(p) = perms.as_mut() {
        p.set_readonly(true);
        corpus::step_io(
            "set_permissions readonly",
            fs::set_permissions("/data/out.txt", p.clone()),
        );
    }
}
