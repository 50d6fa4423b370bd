//! `preopens`: every preopen from fd 3 on (`fd_prestat_get` until EBADF): its fd, name (also
//! with a buffer too small and too large), and fdstat; then prestat of stdio, and of a
//! directory opened later (not a preopen).

use corpus::*;

fn main() {
    let mut fd = 3;
    loop {
        match sys::fd_prestat_get(fd) {
            Ok((tag, len)) => {
                let mut name = vec![0u8; len as usize];
                let r = sys::fd_prestat_dir_name(fd, &mut name);
                println!(
                    "fd {fd}: tag {tag} len {len} name \"{}\" ({})",
                    esc(&name),
                    r.err().map_or("ok".into(), |e| e.to_string())
                );
                if len > 0 {
                    let mut short = vec![0u8; len as usize - 1];
                    step(
                        &format!("fd {fd}: name into {} bytes", len - 1),
                        sys::fd_prestat_dir_name(fd, &mut short),
                    );
                }
                let mut long = vec![0xAAu8; len as usize + 4];
                let r = sys::fd_prestat_dir_name(fd, &mut long);
                println!(
                    "fd {fd}: name into {} bytes: {} tail {}",
                    len + 4,
                    r.err().map_or("ok".into(), |e| e.to_string()),
                    esc(&long[len as usize..])
                );
                show(
                    &format!("fd {fd}: fdstat"),
                    sys::fd_fdstat_get(fd).map(|s| {
                        format!(
                            "{} flags={}",
                            filetype_name(s.filetype),
                            fdflags_names(s.flags)
                        )
                    }),
                );
            }
            Err(e) => {
                println!("fd {fd}: {e}");
                break;
            }
        }
        fd += 1;
    }
    for s in 0..3 {
        show(
            &format!("stdio fd {s}"),
            sys::fd_prestat_get(s).map(|(t, l)| format!("{t} {l}")),
        );
    }
    if let Ok(sub) = open_dir(3, ".") {
        show(
            "a directory opened later",
            sys::fd_prestat_get(sub).map(|(t, l)| format!("{t} {l}")),
        );
        let mut b = [0u8; 8];
        step("its dir name", sys::fd_prestat_dir_name(sub, &mut b));
    }
    step("prestat fd 100", sys::fd_prestat_get(100));
}
