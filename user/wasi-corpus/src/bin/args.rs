//! `args [ARGS...]`: prints argc and every argument (argv[0] included): its length in bytes,
//! its text with non-printable and non-ASCII bytes escaped, and the text as is.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("argc={}", args.len());
    for (i, a) in args.iter().enumerate() {
        println!(
            "argv[{i}] len={} esc=\"{}\"",
            a.len(),
            corpus::esc(a.as_bytes())
        );
        println!("argv[{i}] raw={a}");
    }
}
