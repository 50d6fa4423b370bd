//! The case manifest, `user/wasi-corpus/cases.toml`: each `[[case]]` names a program, its
//! arguments, environment, stdin and preopened directories; each `[[excluded]]` names a user
//! program that has no case and why. Parsing checks what TOML alone cannot (an env entry
//! without `=`, two stdin sources, a guest name given twice, duplicate case names).

use serde::Deserialize;

/// The whole manifest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    #[serde(default, rename = "case")]
    pub cases: Vec<Case>,
    #[serde(default)]
    pub excluded: Vec<Excluded>,
}

/// One run of one program.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique; what FILTER matches and what the report prints.
    pub name: String,
    /// A program name: `user/target/corpus/<program>.wasm` or `user/target/wasm/<program>.wasm`.
    pub program: String,
    /// argv[1..] (argv[0] is the runtime's business: wasmtime passes the module's file name).
    #[serde(default)]
    pub args: Vec<String>,
    /// The whole environment, in order, each `K=V` (split at the first `=`).
    #[serde(default)]
    pub env: Vec<String>,
    /// Inline stdin text.
    pub stdin: Option<String>,
    /// Stdin from a file, relative to `user/wasi-corpus/`.
    pub stdin_file: Option<String>,
    /// The stdin bytes given this many times over (default 1), for large inputs.
    pub stdin_repeat: Option<usize>,
    /// Preopened directories, in fd order (3, 4, ...).
    #[serde(default)]
    pub dirs: Vec<Dir>,
    /// Whether stderr must match (default true). Only for messages that legitimately differ
    /// between runtimes (a trap's text); the manifest says why beside each use.
    #[serde(default = "yes")]
    pub compare_stderr: bool,
}

fn yes() -> bool {
    true
}

/// A preopened directory: a fresh copy of a fixture, or an empty directory.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Dir {
    /// A directory under `user/wasi-corpus/fixtures/`; none: an empty directory.
    pub fixture: Option<String>,
    /// The name the program sees (`/data`, `.`, ...).
    pub guest: String,
    #[serde(default)]
    pub read_only: bool,
}

/// A user program deliberately without a case.
#[derive(Debug, Deserialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Excluded {
    pub program: String,
    pub reason: String,
}

impl Case {
    /// Where the stdin bytes come from, before `stdin_repeat`.
    pub fn stdin_source(&self) -> StdinSource<'_> {
        match (&self.stdin, &self.stdin_file) {
            (Some(text), _) => StdinSource::Inline(text),
            (None, Some(file)) => StdinSource::File(file),
            (None, None) => StdinSource::Empty,
        }
    }
}

/// A case's stdin.
#[derive(Debug, PartialEq, Eq)]
pub enum StdinSource<'a> {
    Empty,
    Inline(&'a str),
    File(&'a str),
}

/// Parses and checks a manifest's text.
pub fn parse(text: &str) -> Result<Manifest, String> {
    let m: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut names = std::collections::BTreeSet::new();
    for c in &m.cases {
        let at = |what: String| format!("case `{}`: {what}", c.name);
        if c.name.is_empty() || c.name.contains(char::is_whitespace) || c.name.contains('/') {
            return Err(at("a name must be non-empty, without spaces or `/`".into()));
        }
        if !names.insert(c.name.as_str()) {
            return Err(at("the name is used twice".into()));
        }
        if c.program.is_empty() || c.program.contains('/') {
            return Err(at(format!("bad program name `{}`", c.program)));
        }
        if let Some(bad) = c.env.iter().find(|e| !e.contains('=')) {
            return Err(at(format!("env entry `{bad}` has no `=`")));
        }
        if c.stdin.is_some() && c.stdin_file.is_some() {
            return Err(at("give stdin or stdin_file, not both".into()));
        }
        if c.stdin_repeat == Some(0) {
            return Err(at("stdin_repeat must be at least 1".into()));
        }
        let mut guests = std::collections::BTreeSet::new();
        for d in &c.dirs {
            if d.guest.is_empty() || !guests.insert(d.guest.as_str()) {
                return Err(at(format!(
                    "guest name `{}` is empty or given twice",
                    d.guest
                )));
            }
            if let Some(f) = &d.fixture
                && (f.is_empty() || f.contains("..") || f.starts_with('/'))
            {
                return Err(at(format!(
                    "fixture `{f}` must be a plain name under fixtures/"
                )));
            }
        }
    }
    for e in &m.excluded {
        if e.reason.trim().is_empty() {
            return Err(format!("excluded `{}`: give a reason", e.program));
        }
        if m.cases.iter().any(|c| c.program == e.program) {
            return Err(format!(
                "`{}` is both excluded and used by a case",
                e.program
            ));
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_case_parses_with_its_defaults() {
        let m = parse(
            r#"
            [[case]]
            name = "one"
            program = "args"
            args = ["a b", ""]
            env = ["K=V=W", "E="]
            stdin_file = "stdin/text.txt"
            dirs = [{ fixture = "basic", guest = "/data" }, { guest = "/ro", read_only = true }]

            [[excluded]]
            program = "init"
            reason = "atoll ABI"
            "#,
        )
        .unwrap();
        let c = &m.cases[0];
        assert_eq!(c.args, ["a b", ""]);
        assert_eq!(c.env, ["K=V=W", "E="]);
        assert_eq!(c.stdin_source(), StdinSource::File("stdin/text.txt"));
        assert!(c.compare_stderr);
        assert_eq!(c.dirs[0].fixture.as_deref(), Some("basic"));
        assert!(!c.dirs[0].read_only);
        assert!(c.dirs[1].read_only && c.dirs[1].fixture.is_none());
        assert_eq!(m.excluded[0].program, "init");
    }

    #[test]
    fn an_unknown_field_is_an_error() {
        let e = parse("[[case]]\nname = \"x\"\nprogram = \"p\"\nargv = []\n").unwrap_err();
        assert!(e.contains("argv"), "{e}");
    }

    #[test]
    fn an_env_entry_without_an_equals_sign_is_refused() {
        let e = parse("[[case]]\nname = \"x\"\nprogram = \"p\"\nenv = [\"HOME\"]\n").unwrap_err();
        assert!(e.contains("has no `=`"), "{e}");
    }

    #[test]
    fn two_stdin_sources_are_refused() {
        let e =
            parse("[[case]]\nname = \"x\"\nprogram = \"p\"\nstdin = \"a\"\nstdin_file = \"f\"\n")
                .unwrap_err();
        assert!(e.contains("not both"), "{e}");
    }

    #[test]
    fn a_case_name_used_twice_is_refused() {
        let one = "[[case]]\nname = \"x\"\nprogram = \"p\"\n";
        let e = parse(&format!("{one}{one}")).unwrap_err();
        assert!(e.contains("used twice"), "{e}");
    }

    #[test]
    fn a_guest_name_given_twice_is_refused() {
        let e = parse(
            "[[case]]\nname = \"x\"\nprogram = \"p\"\ndirs = [{ guest = \"/d\" }, { guest = \"/d\" }]\n",
        )
        .unwrap_err();
        assert!(e.contains("given twice"), "{e}");
    }

    #[test]
    fn a_fixture_path_leaving_the_fixtures_folder_is_refused() {
        let e = parse(
            "[[case]]\nname = \"x\"\nprogram = \"p\"\ndirs = [{ fixture = \"../x\", guest = \"/d\" }]\n",
        )
        .unwrap_err();
        assert!(e.contains("plain name"), "{e}");
    }

    #[test]
    fn an_excluded_program_used_by_a_case_is_refused() {
        let e = parse(
            "[[case]]\nname = \"x\"\nprogram = \"p\"\n[[excluded]]\nprogram = \"p\"\nreason = \"r\"\n",
        )
        .unwrap_err();
        assert!(e.contains("both excluded"), "{e}");
    }

    #[test]
    fn compare_stderr_can_be_turned_off() {
        let m = parse("[[case]]\nname = \"x\"\nprogram = \"p\"\ncompare_stderr = false\n").unwrap();
        assert!(!m.cases[0].compare_stderr);
    }
}
