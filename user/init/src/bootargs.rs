//! init's boot arguments: `exec=`, `exec.env=`, `exec.dir=`, `exec.argv0=` and `exec.invoke=`
//! (user/ABI.md,
//! "Boot and init"). Each is a comma-separated list of percent-encoded items. The same
//! words may come from a file instead (`exec.file=PATH`, whitespace-separated), which is how
//! `just exec` passes requests of any length (the kernel command line holds 511 bytes).

use core::fmt;

/// The program `exec=` asks init to run instead of the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// `argv[0]` is the program's path.
    pub argv: Vec<String>,
    pub env: Vec<String>,
    /// `PATH` or `PATH::NAME` entries, in order (fds 3, 4, …).
    pub dirs: Vec<String>,
    /// What the program sees as `argv[0]` (default: its path).
    pub argv0: Option<String>,
    /// The export to call instead of `_start` (`just exec --invoke`).
    pub invoke: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BootArgError {
    /// A `%` not followed by two hex digits.
    BadEscape { arg: &'static str, item: String },
    /// The decoded bytes are not UTF-8.
    NotUtf8 { arg: &'static str, item: String },
    /// `exec.env=` or `exec.dir=` without `exec=`, or an empty `exec=`.
    NoProgram,
    /// An environment entry without `=`.
    BadEnv(String),
}

impl fmt::Display for BootArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootArgError::BadEscape { arg, item } => {
                write!(f, "{arg}: bad percent escape in `{item}`")
            }
            BootArgError::NotUtf8 { arg, item } => write!(f, "{arg}: `{item}` is not UTF-8"),
            BootArgError::NoProgram => {
                f.write_str("exec.env/exec.dir given without a program in exec=")
            }
            BootArgError::BadEnv(e) => write!(f, "exec.env: `{e}` is not KEY=VALUE"),
        }
    }
}

/// Decodes `%XX` escapes (any byte; `+` is not special).
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = (hex[0] as char).to_digit(16)?;
            let lo = (hex[1] as char).to_digit(16)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Splits a comma-separated list and decodes each item. An empty value is
/// an empty list.
fn decode_list(arg: &'static str, value: &str) -> Result<Vec<String>, BootArgError> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(|item| {
            let bytes = percent_decode(item).ok_or_else(|| BootArgError::BadEscape {
                arg,
                item: item.into(),
            })?;
            String::from_utf8(bytes).map_err(|_| BootArgError::NotUtf8 {
                arg,
                item: item.into(),
            })
        })
        .collect()
}

/// The name of the file that holds more boot words, if `exec.file=` is given.
pub fn exec_file(args: &[String]) -> Option<&str> {
    args.iter()
        .skip(1)
        .find_map(|t| t.strip_prefix("exec.file="))
}

/// Finds the exec requests in init's arguments (the kernel command line's tokens, then the
/// exec file's; `argv[0]` is skipped). Each `exec=` starts a request; `exec.env=`,
/// `exec.dir=`, `exec.argv0=` and `exec.invoke=` add to the latest. Other tokens (`log=...`) are the
/// kernel's. An empty list means: no `exec=`, run the shell.
pub fn parse(args: &[String]) -> Result<Vec<ExecRequest>, BootArgError> {
    let mut requests: Vec<ExecRequest> = Vec::new();
    for token in args.iter().skip(1) {
        let Some((key, value)) = token.split_once('=') else {
            continue;
        };
        if key == "exec" {
            let argv = decode_list("exec", value)?;
            if argv.first().is_none_or(|p| p.is_empty()) {
                return Err(BootArgError::NoProgram);
            }
            requests.push(ExecRequest {
                argv,
                env: Vec::new(),
                dirs: Vec::new(),
                argv0: None,
                invoke: None,
            });
            continue;
        }
        let (arg, what): (&'static str, fn(&mut ExecRequest, Vec<String>)) = match key {
            "exec.env" => ("exec.env", |r, v| r.env.extend(v)),
            "exec.dir" => ("exec.dir", |r, v| r.dirs.extend(v)),
            "exec.argv0" => ("exec.argv0", |r, mut v| r.argv0 = v.pop()),
            "exec.invoke" => ("exec.invoke", |r, mut v| r.invoke = v.pop()),
            _ => continue,
        };
        let items = decode_list(arg, value)?;
        let last = requests.last_mut().ok_or(BootArgError::NoProgram)?;
        what(last, items);
    }
    for r in &requests {
        if let Some(e) = r.env.iter().find(|e| !e.contains('=')) {
            return Err(BootArgError::BadEnv(e.clone()));
        }
    }
    Ok(requests)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn decodes_escapes() {
        assert_eq!(percent_decode("a%2Cb%20c").unwrap(), b"a,b c");
        assert_eq!(percent_decode("%e2%82%ac").unwrap(), "€".as_bytes());
        assert_eq!(percent_decode("100%"), None);
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("").unwrap(), b"");
    }

    #[test]
    fn no_exec_runs_the_shell() {
        assert_eq!(parse(&args(&["init"])), Ok(vec![]));
        assert_eq!(parse(&args(&["init", "log=warn", "nokaslr"])), Ok(vec![]));
    }

    #[test]
    fn each_exec_starts_a_request_of_a_session() {
        let got = parse(&args(&[
            "init",
            "exec=/run/a.wasm,1",
            "exec.env=A=1",
            "exec=/run/b.wasm",
            "exec.dir=/tmp",
            "exec.argv0=b.wasm",
        ]))
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].argv, ["/run/a.wasm", "1"]);
        assert_eq!(got[0].env, ["A=1"]);
        assert!(got[0].dirs.is_empty());
        assert_eq!(got[1].dirs, ["/tmp"]);
        assert_eq!(got[1].argv0.as_deref(), Some("b.wasm"));
    }

    #[test]
    fn exec_with_env_and_dirs() {
        let got = parse(&args(&[
            "init",
            "log=warn",
            "exec=/run/prog.wasm,a%2Cb,hello%20world,",
            "exec.env=K%3DV,PATH=/bin",
            "exec.dir=/mnt/0::/data,/tmp",
        ]))
        .unwrap()
        .remove(0);
        assert_eq!(got.argv, ["/run/prog.wasm", "a,b", "hello world", ""]);
        assert_eq!(got.env, ["K=V", "PATH=/bin"]);
        assert_eq!(got.dirs, ["/mnt/0::/data", "/tmp"]);
        assert_eq!(got.argv0, None);
    }

    #[test]
    fn argv0_and_an_exec_file_are_read() {
        let words = args(&["init", "exec.file=/run/exec.args"]);
        assert_eq!(exec_file(&words), Some("/run/exec.args"));
        let got = parse(&args(&[
            "init",
            "exec=/run/p.wasm,x",
            "exec.argv0=p.wasm",
            "exec.invoke=add%20up",
        ]))
        .unwrap()
        .remove(0);
        assert_eq!(got.argv0.as_deref(), Some("p.wasm"));
        assert_eq!(got.invoke.as_deref(), Some("add up"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse(&args(&["init", "exec="])),
            Err(BootArgError::NoProgram)
        );
        assert_eq!(
            parse(&args(&["init", "exec.env=A=1"])),
            Err(BootArgError::NoProgram)
        );
        assert_eq!(
            parse(&args(&["init", "exec=x", "exec.env=NOEQ"])),
            Err(BootArgError::BadEnv("NOEQ".into()))
        );
        assert!(matches!(
            parse(&args(&["init", "exec=a%2"])),
            Err(BootArgError::BadEscape { .. })
        ));
        assert!(matches!(
            parse(&args(&["init", "exec=%ff"])),
            Err(BootArgError::NotUtf8 { .. })
        ));
    }
}
