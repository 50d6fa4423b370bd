//! `misc-calls`: `sched_yield`, the socket calls on things that are not sockets (stdio, a file,
//! a bad fd), and `proc_exit` from deep inside the program after output (exit code 7).

use corpus::*;

fn main() {
    step("sched_yield", sys::sched_yield());
    for _ in 0..100 {
        let _ = sys::sched_yield();
    }
    println!("100 more yields done");
    let d = preopen("/data");
    let f = open_rw(d, "f", O_CREAT).unwrap_or(99);
    for (label, fd) in [
        ("stdin", 0),
        ("stdout", 1),
        ("a file", f),
        ("a directory", d),
        ("a bad fd", 50),
    ] {
        show(&format!("sock_accept on {label}"), sys::sock_accept(fd, 0));
        step(
            &format!("sock_shutdown on {label}"),
            sys::sock_shutdown(fd, 3),
        );
    }
    fn deep(n: u32) {
        if n == 0 {
            println!("exiting from depth 0");
            sys::proc_exit(7);
        }
        deep(n - 1);
        println!("not reached");
    }
    deep(50);
}
