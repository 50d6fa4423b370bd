//! `stdio-fdstat`: for stdin, stdout and stderr prints the fdstat (filetype, flags, rights),
//! whether std calls it a terminal, and what seek, tell, filestat and set_flags answer.

use corpus::*;
use std::io::IsTerminal;

fn main() {
    let terminal = [
        std::io::stdin().is_terminal(),
        std::io::stdout().is_terminal(),
        std::io::stderr().is_terminal(),
    ];
    for fd in 0..3u32 {
        match sys::fd_fdstat_get(fd) {
            Ok(st) => println!(
                "fd {fd}: {} flags={} base={} inheriting={}",
                filetype_name(st.filetype),
                fdflags_names(st.flags),
                rights_names(st.rights_base),
                rights_names(st.rights_inheriting)
            ),
            Err(e) => println!("fd {fd}: fdstat {e}"),
        }
        println!("fd {fd}: is_terminal={}", terminal[fd as usize]);
        show(
            &format!("fd {fd}: seek cur"),
            sys::fd_seek(fd, 0, WHENCE_CUR),
        );
        show(&format!("fd {fd}: tell"), sys::fd_tell(fd));
        show(
            &format!("fd {fd}: filestat"),
            sys::fd_filestat_get(fd).map(|s| filetype_name(s.filetype)),
        );
        step(&format!("fd {fd}: sync"), sys::fd_sync(fd));
        step(&format!("fd {fd}: advise"), sys::fd_advise(fd, 0, 0, 0));
    }
    step(
        "set_flags stdout nonblock",
        sys::fd_fdstat_set_flags(1, FDFLAGS_NONBLOCK),
    );
    step("set_flags stdout none", sys::fd_fdstat_set_flags(1, 0));
    step(
        "set_flags stdout append",
        sys::fd_fdstat_set_flags(1, FDFLAGS_APPEND),
    );
    println!("still writing to stdout");
}
