//! `tree [PATH...]` (default `/data`): walks each directory tree with `std::fs`, printing every
//! entry sorted by name: its kind, a file's size and contents digest, a symlink's target.

use std::path::Path;

fn walk(path: &Path, depth: usize) {
    let mut entries = match std::fs::read_dir(path) {
        Ok(rd) => rd.filter_map(Result::ok).collect::<Vec<_>>(),
        Err(e) => {
            println!(
                "{}! {}: {}",
                "  ".repeat(depth),
                path.display(),
                corpus::io_errno(&e)
            );
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let indent = "  ".repeat(depth);
        let ft = e.file_type();
        match ft {
            Ok(t) if t.is_symlink() => {
                let target = std::fs::read_link(e.path())
                    .map_or_else(|e| corpus::io_errno(&e), |t| t.display().to_string());
                println!("{indent}{name} -> {target}");
            }
            Ok(t) if t.is_dir() => {
                println!("{indent}{name}/");
                walk(&e.path(), depth + 1);
            }
            Ok(_) => match std::fs::read(e.path()) {
                Ok(b) => println!(
                    "{indent}{name} ({} bytes, fnv {:016x})",
                    b.len(),
                    corpus::fnv(&b)
                ),
                Err(err) => println!("{indent}{name} (unreadable: {})", corpus::io_errno(&err)),
            },
            Err(err) => println!("{indent}{name} ?{}", corpus::io_errno(&err)),
        }
    }
}

fn main() {
    let mut paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        paths.push("/data".into());
    }
    for p in paths {
        println!("{p}:");
        walk(Path::new(&p), 1);
    }
}
