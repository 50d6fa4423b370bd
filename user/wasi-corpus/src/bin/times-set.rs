//! `times-set`: `path_filestat_set_times` and `fd_filestat_set_times` with every `fstflags`
//! combination. Explicit times are printed exactly (they are ours); `*_NOW` times are printed
//! as `now` when within a minute of the realtime clock; untouched times as `kept`. The four
//! combinations naming a time both explicitly and as now are EINVAL. Also on a symlink
//! without following it, on a directory, and on a missing path.

use corpus::*;

const T1: u64 = 1_000_000_000_123_456_789;
const T2: u64 = 1_200_000_000_987_654_321;

fn label(flags: u16) -> String {
    let names: Vec<&str> = [
        (FST_ATIM, "ATIM"),
        (FST_ATIM_NOW, "ATIM_NOW"),
        (FST_MTIM, "MTIM"),
        (FST_MTIM_NOW, "MTIM_NOW"),
    ]
    .iter()
    .filter(|(b, _)| flags & b != 0)
    .map(|(_, n)| *n)
    .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join("|")
    }
}

fn when(t: u64, before: u64, now: u64) -> String {
    if t == before {
        "kept".into()
    } else if t.abs_diff(now) < 60_000_000_000 {
        "now".into()
    } else {
        t.to_string()
    }
}

fn main() {
    let d = preopen("/data");
    let _ = open_rw(d, "f", O_CREAT);
    let fd = open_rw(d, "g", O_CREAT).unwrap_or(u32::MAX);
    for flags in 0..16u16 {
        for (how, is_fd) in [("path", false), ("fd", true)] {
            let name = if is_fd { "g" } else { "f" };
            // A known starting point: both times explicit and old.
            let _ = sys::path_filestat_set_times(
                d,
                1,
                name,
                5_000_000_000,
                6_000_000_000,
                FST_ATIM | FST_MTIM,
            );
            let before = sys::path_filestat_get(d, 1, name).unwrap_or_default();
            let r = if is_fd {
                sys::fd_filestat_set_times(fd, T1, T2, flags)
            } else {
                sys::path_filestat_set_times(d, LOOKUP_FOLLOW, name, T1, T2, flags)
            };
            let now = sys::clock_time_get(CLOCK_REALTIME, 1).unwrap_or(0);
            let after = sys::path_filestat_get(d, 1, name).unwrap_or_default();
            match r {
                Ok(()) => println!(
                    "{how} {}: ok atim={} mtim={}",
                    label(flags),
                    when(after.atim, before.atim, now),
                    when(after.mtim, before.mtim, now)
                ),
                Err(e) => println!("{how} {}: {e}", label(flags)),
            }
        }
    }
    let _ = sys::path_symlink("f", d, "link");
    let _ =
        sys::path_filestat_set_times(d, 1, "f", 7_000_000_000, 7_000_000_000, FST_ATIM | FST_MTIM);
    step(
        "set link nofollow",
        sys::path_filestat_set_times(d, 0, "link", T1, T1, FST_ATIM | FST_MTIM),
    );
    show(
        "link's mtim",
        sys::path_filestat_get(d, 0, "link").map(|s| s.mtim == T1),
    );
    show(
        "f's mtim",
        sys::path_filestat_get(d, 1, "f").map(|s| s.mtim),
    );
    step(
        "set link follow",
        sys::path_filestat_set_times(d, 1, "link", T2, T2, FST_ATIM | FST_MTIM),
    );
    show(
        "f's mtim",
        sys::path_filestat_get(d, 1, "f").map(|s| s.mtim),
    );
    let _ = sys::path_create_directory(d, "dir");
    step(
        "set a directory",
        sys::path_filestat_set_times(d, 1, "dir", T1, T2, FST_ATIM | FST_MTIM),
    );
    show(
        "dir times",
        sys::path_filestat_get(d, 1, "dir").map(|s| format!("{} {}", s.atim, s.mtim)),
    );
    step(
        "set a missing path",
        sys::path_filestat_set_times(d, 1, "missing", T1, T2, FST_MTIM),
    );
    step(
        "set the preopen by fd",
        sys::fd_filestat_set_times(d, T1, T2, FST_MTIM),
    );
    if let Ok(ro) = open_ro(d, "f") {
        step(
            "set by a read-only fd",
            sys::fd_filestat_set_times(ro, T1, T2, FST_MTIM),
        );
    }
    step(
        "set stdout",
        sys::fd_filestat_set_times(1, T1, T2, FST_MTIM),
    );
    step(
        "set mtim 0",
        sys::path_filestat_set_times(d, 1, "f", 0, 0, FST_MTIM),
    );
    show(
        "f's mtim",
        sys::path_filestat_get(d, 1, "f").map(|s| s.mtim),
    );
}
