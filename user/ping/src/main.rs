//! `ping [N]`: creates a channel, spawns `pong` with one end moved to it
//! (its handle 1), sends N messages (default 5) and prints each answer.

use std::process::ExitCode;

use atoll::{Channel, Process, SpawnOptions};

fn main() -> ExitCode {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    match run(n) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ping: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(n: u32) -> Result<(), String> {
    let (mine, theirs) = Channel::create().map_err(|e| format!("channel_create: {e}"))?;
    let pong = Process::spawn(SpawnOptions::new("pong").handle(theirs))
        .map_err(|e| format!("spawning pong: {e}"))?;
    for i in 1..=n {
        let msg = format!("ping {i}");
        mine.send(msg.as_bytes())
            .map_err(|e| format!("send: {e}"))?;
        let reply = mine.recv().map_err(|e| format!("recv: {e}"))?;
        let reply = String::from_utf8_lossy(&reply);
        println!("ping: sent `{msg}`, got `{reply}`");
        if reply != format!("pong {i}") {
            return Err(format!("expected `pong {i}`, got `{reply}`"));
        }
    }
    // Closing our end tells pong to finish.
    drop(mine);
    let status = pong.wait().map_err(|e| format!("wait: {e}"))?;
    if !status.success() {
        return Err(format!("pong {status}"));
    }
    println!("ping: {n} round trips, pong exited cleanly");
    Ok(())
}
