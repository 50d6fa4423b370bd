//! The command line: `wasi-run [--dir HOST::GUEST[::readonly]]... [--env K=V]... [--] PROG.wasm
//! [ARGS...]`, read as `build/wasmtime-ref/run.py` (the difftest reference) reads it.

use std::path::PathBuf;

pub const USAGE: &str = "usage: wasi-run [--dir HOST::GUEST[::readonly]]... [--env K=V]... [--] \
                         PROG.wasm [ARGS...]";

/// One `--dir`: a host directory preopened as `guest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    pub host: PathBuf,
    pub guest: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Preopens in fd order (3, 4, ...).
    pub dirs: Vec<Dir>,
    /// The whole environment, in order, each `(K, V)` (nothing is inherited).
    pub env: Vec<(String, String)>,
    pub program: PathBuf,
    /// argv[1..].
    pub args: Vec<String>,
}

impl Options {
    /// argv[0] as `wasmtime run` gives it: the program's file name (not its path).
    pub fn argv0(&self) -> String {
        self.program.file_name().map_or_else(
            || self.program.to_string_lossy().into_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let (mut dirs, mut env) = (Vec::new(), Vec::new());
    let mut i = 0;
    while let Some(a) = args.get(i) {
        match a.as_str() {
            "--dir" | "--env" => {
                let v = args.get(i + 1).ok_or(format!("{a} needs a value"))?;
                if a == "--dir" {
                    dirs.push(dir(v)?);
                } else {
                    let (k, val) = v
                        .split_once('=')
                        .ok_or(format!("--env {v:?}: expected K=V"))?;
                    env.push((k.to_string(), val.to_string()));
                }
                i += 2;
            }
            "--" => {
                i += 1;
                break;
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => break,
        }
    }
    let program = args.get(i).ok_or("no program")?;
    Ok(Options {
        dirs,
        env,
        program: PathBuf::from(program),
        args: args[i + 1..].to_vec(),
    })
}

fn dir(v: &str) -> Result<Dir, String> {
    let parts: Vec<&str> = v.split("::").collect();
    let read_only = match parts.as_slice() {
        [_, _] => false,
        [_, _, "readonly"] => true,
        _ => {
            return Err(format!(
                "--dir {v:?}: expected HOST::GUEST or HOST::GUEST::readonly"
            ));
        }
    };
    Ok(Dir {
        host: PathBuf::from(parts[0]),
        guest: parts[1].to_string(),
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dirs_and_env_come_in_order_and_arguments_after_the_program_are_the_programs() {
        let o = parse(&args(&[
            "--dir",
            "/h/a::/a",
            "--env",
            "X=1=2",
            "--dir",
            "/h/b::/b::readonly",
            "--",
            "/p/prog.wasm",
            "--dir",
            "x",
        ]))
        .unwrap();
        assert_eq!(
            o.dirs,
            [
                Dir {
                    host: "/h/a".into(),
                    guest: "/a".into(),
                    read_only: false
                },
                Dir {
                    host: "/h/b".into(),
                    guest: "/b".into(),
                    read_only: true
                }
            ]
        );
        assert_eq!(o.env, [("X".to_string(), "1=2".to_string())]);
        assert_eq!(o.program, PathBuf::from("/p/prog.wasm"));
        assert_eq!(o.args, ["--dir", "x"]);
        assert_eq!(o.argv0(), "prog.wasm");
    }

    #[test]
    fn the_program_may_come_without_a_double_dash() {
        let o = parse(&args(&["prog.wasm", "a"])).unwrap();
        assert_eq!(
            (o.program, o.args),
            (PathBuf::from("prog.wasm"), args(&["a"]))
        );
    }

    #[test]
    fn malformed_options_are_errors() {
        for bad in [
            &["--dir", "/only-host", "p.wasm"][..],
            &["--dir", "/h::/g::rw", "p.wasm"],
            &["--env", "NOEQUALS", "p.wasm"],
            &["--env"],
            &["--bogus", "p.wasm"],
            &["--"],
            &[],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
