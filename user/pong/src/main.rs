//! `pong`: answers every `ping N` on its channel (handle 1, moved to it by
//! `ping`) with `pong N`, until the peer closes.

use std::process::ExitCode;

use atoll::{Channel, Error, Handle};

fn main() -> ExitCode {
    let Some(handle) = Handle::from_raw(1) else {
        return ExitCode::FAILURE;
    };
    let channel = Channel::from_handle(handle);
    let mut count = 0;
    loop {
        match channel.recv() {
            Ok(msg) => {
                let text = String::from_utf8_lossy(&msg);
                println!("pong: got `{text}`");
                let answer = text.replacen("ping", "pong", 1);
                if let Err(e) = channel.send(answer.as_bytes()) {
                    eprintln!("pong: send: {e}");
                    return ExitCode::FAILURE;
                }
                count += 1;
            }
            Err(Error::BrokenPipe) => {
                println!("pong: peer closed after {count} messages");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("pong: recv: {e} (run me through `ping`)");
                return ExitCode::FAILURE;
            }
        }
    }
}
