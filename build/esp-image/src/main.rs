//! `esp-image --loader BOOTX64.EFI --kernel KERNEL [--initrd FILE]
//! [--cmdline TEXT] [--size-mib N] --out DISK.img`

use esp_image::EspImage;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: esp-image --loader BOOTX64.EFI --kernel KERNEL [--initrd FILE] \
                     [--cmdline TEXT] [--size-mib N] --out DISK.img";

struct Args {
    loader: PathBuf,
    kernel: PathBuf,
    initrd: Option<PathBuf>,
    cmdline: Option<String>,
    size_mib: Option<u64>,
    out: PathBuf,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let (mut loader, mut kernel, mut initrd, mut cmdline, mut size_mib, mut out) =
        (None, None, None, None, None, None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--loader" => loader = Some(PathBuf::from(value()?)),
            "--kernel" => kernel = Some(PathBuf::from(value()?)),
            "--initrd" => initrd = Some(PathBuf::from(value()?)),
            "--cmdline" => cmdline = Some(value()?),
            "--size-mib" => {
                let v = value()?;
                size_mib = Some(v.parse().map_err(|_| format!("bad --size-mib {v:?}"))?);
            }
            "--out" | "-o" => out = Some(PathBuf::from(value()?)),
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        loader: loader.ok_or("--loader is required")?,
        kernel: kernel.ok_or("--kernel is required")?,
        initrd,
        cmdline,
        size_mib,
        out: out.ok_or("--out is required")?,
    })
}

fn run() -> Result<(), String> {
    let args = parse(std::env::args().skip(1))?;
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut image = EspImage::new(read(&args.loader)?, read(&args.kernel)?);
    if let Some(p) = &args.initrd {
        image = image.initrd(read(p)?);
    }
    if let Some(c) = &args.cmdline {
        image = image.cmdline(c);
    }
    if let Some(mib) = args.size_mib {
        image = image.size(mib << 20);
    }
    image
        .write_to(&args.out)
        .map_err(|e| format!("{}: {e}", args.out.display()))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("esp-image: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> impl Iterator<Item = String> {
        s.split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn parses_flags_and_rejects_bad_ones() {
        let a = parse(args("--loader l.efi --kernel k --size-mib 80 -o d.img")).unwrap();
        assert_eq!(
            (a.loader, a.kernel, a.out),
            ("l.efi".into(), "k".into(), "d.img".into())
        );
        assert_eq!((a.size_mib, a.initrd, a.cmdline), (Some(80), None, None));
        assert!(
            parse(args("--loader l.efi --out d.img")).is_err(),
            "no kernel"
        );
        assert!(parse(args("--loader l --kernel k --out d --size-mib x")).is_err());
        assert!(parse(args("--loader l --kernel k --out d --bogus")).is_err());
        assert!(parse(args("--loader l --kernel k --out")).is_err());
    }
}
