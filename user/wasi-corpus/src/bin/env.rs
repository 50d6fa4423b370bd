//! `env [NAME...]`: prints the environment in the order the host gives it, then looks up
//! each NAME (`set`, `empty`, or `unset`), with values escaped.

fn main() {
    let vars: Vec<(String, String)> = std::env::vars().collect();
    println!("count={}", vars.len());
    for (k, v) in &vars {
        println!(
            "{}={}",
            corpus::esc(k.as_bytes()),
            corpus::esc(v.as_bytes())
        );
    }
    for name in std::env::args().skip(1) {
        match std::env::var(&name) {
            Ok(v) if v.is_empty() => println!("lookup {name}: empty"),
            Ok(v) => println!("lookup {name}: set to \"{}\"", corpus::esc(v.as_bytes())),
            Err(e) => println!("lookup {name}: unset ({e})"),
        }
    }
}
