//! Reading test counts out of runner output.

/// Counts from a line `N passed, N failed` (optionally `, N skipped`), the
/// closing line of the kernel test run and of the spec runner.
pub fn parse_plain_summary(line: &str) -> Option<(u64, u64)> {
    let line = line.trim();
    let line = line.rsplit_once(": ").map_or(line, |(_, rest)| rest);
    let mut parts = line.split(", ");
    let passed = parts.next()?.strip_suffix(" passed")?.parse().ok()?;
    let failed = parts.next()?.strip_suffix(" failed")?.parse().ok()?;
    Some((passed, failed))
}

/// Counts from libtest's `test result: ok. N passed; N failed; N ignored; ...`.
pub fn parse_libtest_result(line: &str) -> Option<(u64, u64, u64)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let (_, counts) = rest.split_once(". ")?;
    let mut passed = None;
    let mut failed = None;
    let mut ignored = 0;
    for part in counts.split("; ") {
        let mut it = part.split_whitespace();
        let (Some(n), Some(what)) = (it.next(), it.next()) else {
            continue;
        };
        let Ok(n) = n.parse::<u64>() else { continue };
        match what {
            "passed" => passed = Some(n),
            "failed" => failed = Some(n),
            "ignored" => ignored = n,
            _ => {}
        }
    }
    Some((passed?, failed?, ignored))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_summary() {
        assert_eq!(parse_plain_summary("12 passed, 0 failed"), Some((12, 0)));
        assert_eq!(
            parse_plain_summary("ktest: 3 passed, 2 failed, 1 skipped"),
            Some((3, 2))
        );
        assert_eq!(parse_plain_summary("passed, failed"), None);
        assert_eq!(parse_plain_summary("test foo ... ok"), None);
    }

    #[test]
    fn libtest_result() {
        let line = "test result: ok. 7 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.00s";
        assert_eq!(parse_libtest_result(line), Some((7, 0, 2)));
        let line = "test result: FAILED. 5 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(parse_libtest_result(line), Some((5, 1, 0)));
        assert_eq!(parse_libtest_result("running 3 tests"), None);
    }
}
