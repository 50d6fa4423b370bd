//! Traps on purpose: the kernel must end this process with a trap, not crash.

fn main() {
    println!("about to execute `unreachable`");
    core::arch::wasm32::unreachable();
}
