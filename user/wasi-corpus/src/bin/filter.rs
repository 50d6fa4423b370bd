//! `filter WORD`: prints the stdin lines that contain WORD, numbered, upper-cased; says on
//! stderr how many matched and exits 1 when none did (like grep).

use std::io::BufRead;

fn main() {
    let Some(word) = std::env::args().nth(1) else {
        eprintln!("usage: filter WORD");
        std::process::exit(2);
    };
    let mut matched = 0;
    for (i, line) in std::io::stdin().lock().split(b'\n').enumerate() {
        let Ok(line) = line else { break };
        let text = String::from_utf8_lossy(&line);
        if text.contains(&word) {
            matched += 1;
            println!("{}: {}", i + 1, text.to_uppercase());
        }
    }
    eprintln!("{matched} lines matched");
    if matched == 0 {
        std::process::exit(1);
    }
}
