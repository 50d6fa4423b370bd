//! The expected-failures list.
//!
//! One entry per line: `<script>[:<line>] <reason>`, where `<script>` is a
//! suite name such as `wasm-v2/call.wast`. Without `:<line>` the entry covers
//! every failure of that script. `#` starts a comment. Listed failures still
//! count as failed; they only keep the exit status zero. An entry that no
//! longer fails is reported, so the list can only shrink.

use std::collections::BTreeMap;

/// Parsed expected failures.
#[derive(Clone, Debug, Default)]
pub struct ExpectedFailures {
    /// Script name → reason, for whole-script entries.
    pub files: BTreeMap<String, String>,
    /// (script, line) → reason.
    pub lines: BTreeMap<(String, u32), String>,
}

impl ExpectedFailures {
    /// Parses the list; errors name the offending line.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut list = ExpectedFailures::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let (target, reason) = line
                .split_once(char::is_whitespace)
                .ok_or_else(|| format!("line {}: missing reason after `{line}`", i + 1))?;
            let reason = reason.trim().to_string();
            let duplicate = match target.rsplit_once(':') {
                Some((file, number)) => {
                    let number: u32 = number
                        .parse()
                        .map_err(|_| format!("line {}: bad line number in `{target}`", i + 1))?;
                    list.lines
                        .insert((file.to_string(), number), reason)
                        .is_some()
                }
                None => list.files.insert(target.to_string(), reason).is_some(),
            };
            if duplicate {
                return Err(format!("line {}: `{target}` is listed twice", i + 1));
            }
        }
        Ok(list)
    }

    /// Whether a failure of `file` at `line` is listed.
    pub fn covers(&self, file: &str, line: u32) -> bool {
        self.files.contains_key(file) || self.lines.contains_key(&(file.to_string(), line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries() {
        let list = ExpectedFailures::parse(
            "# comment\n\nwasm-v2/a.wast whole file reason\nsimd/b.wast:12  one assertion # why\n",
        )
        .unwrap();
        assert!(list.covers("wasm-v2/a.wast", 99));
        assert!(list.covers("simd/b.wast", 12));
        assert!(!list.covers("simd/b.wast", 13));
        assert_eq!(
            list.lines[&("simd/b.wast".to_string(), 12)],
            "one assertion"
        );
    }

    #[test]
    fn rejects_bad_entries() {
        assert!(ExpectedFailures::parse("a.wast\n").is_err());
        assert!(ExpectedFailures::parse("a.wast:x reason\n").is_err());
        assert!(ExpectedFailures::parse("a.wast r\na.wast r\n").is_err());
    }
}
