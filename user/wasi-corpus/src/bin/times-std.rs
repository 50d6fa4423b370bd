//! `times-std`: file times through `std::fs`: `File::set_times`/`set_modified`, then
//! `metadata().modified()/accessed()` compared with what was set and with each other, and the
//! order of times of files written one after another.

use std::fs::{File, FileTimes};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    let t1 = UNIX_EPOCH + Duration::new(1_500_000_000, 250);
    let t2 = UNIX_EPOCH + Duration::new(1_600_000_000, 999_999_999);
    let r = File::options()
        .create(true)
        .write(true)
        .truncate(true)
        .open("/data/t.txt");
    let Ok(f) = r else {
        println!("create: failed");
        return;
    };
    let set = f.set_times(FileTimes::new().set_accessed(t1).set_modified(t2));
    corpus::step_io("set_times", set);
    match f.metadata() {
        Ok(m) => {
            println!("accessed == t1: {}", m.accessed().ok() == Some(t1));
            println!("modified == t2: {}", m.modified().ok() == Some(t2));
            println!("created present: {}", m.created().is_ok());
        }
        Err(e) => println!("metadata: {}", corpus::io_errno(&e)),
    }
    corpus::step_io("set_modified", f.set_modified(t1));
    println!(
        "modified == t1: {}",
        f.metadata().and_then(|m| m.modified()).ok() == Some(t1)
    );
    let start = SystemTime::now();
    std::thread::sleep(Duration::from_millis(20));
    let _ = std::fs::write("/data/later.txt", b"later");
    let later = std::fs::metadata("/data/later.txt").and_then(|m| m.modified());
    match later {
        Ok(m) => {
            println!("a new file's mtime is after t1: {}", m > t1);
            let ahead = m.duration_since(start).map(|d| d < Duration::from_secs(60));
            let behind = start.duration_since(m).map(|d| d < Duration::from_secs(60));
            println!(
                "and within a minute of SystemTime::now: {}",
                ahead.or(behind).unwrap_or(false)
            );
        }
        Err(e) => println!("later: {}", corpus::io_errno(&e)),
    }
    let ro = File::open("/data/t.txt");
    if let Ok(ro) = ro {
        corpus::step_io("set_modified on a read-only File", ro.set_modified(t2));
    }
}
