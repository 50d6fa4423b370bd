//! Counters a campaign reports: cases, executions and named events (outcomes seen).

use std::collections::BTreeMap;

#[derive(Default, Debug, Clone)]
pub struct Stats {
    /// Inputs run.
    pub cases: u64,
    /// Executions compared or checked (for `diff`: exported-function calls answered in all
    /// three configurations and compared, up to a stack exhaustion; for `malformed`: binaries
    /// given to the engine; for `wasi` and `ipc`: calls).
    pub execs: u64,
    /// Named outcomes, e.g. `trap: unreachable` or `rejected`.
    pub events: BTreeMap<String, u64>,
}

impl Stats {
    pub fn event(&mut self, name: impl Into<String>) {
        *self.events.entry(name.into()).or_default() += 1;
    }

    pub fn merge(&mut self, other: &Stats) {
        self.cases += other.cases;
        self.execs += other.execs;
        for (k, v) in &other.events {
            *self.events.entry(k.clone()).or_default() += v;
        }
    }

    /// One line per counter, `key value`, for the worker → supervisor protocol.
    pub fn to_lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("cases {}", self.cases),
            format!("execs {}", self.execs),
        ];
        for (k, v) in &self.events {
            out.push(format!("event {v} {k}"));
        }
        out
    }

    /// Parses one line of [`Stats::to_lines`] into `self`; false if it is not one.
    pub fn parse_line(&mut self, line: &str) -> bool {
        if let Some(n) = line
            .strip_prefix("cases ")
            .and_then(|n| n.parse::<u64>().ok())
        {
            self.cases += n;
        } else if let Some(n) = line
            .strip_prefix("execs ")
            .and_then(|n| n.parse::<u64>().ok())
        {
            self.execs += n;
        } else if let Some(rest) = line.strip_prefix("event ") {
            let Some((n, name)) = rest.split_once(' ') else {
                return false;
            };
            let Ok(n) = n.parse::<u64>() else {
                return false;
            };
            *self.events.entry(name.to_string()).or_default() += n;
        } else {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn stats_survive_the_trip_through_their_lines() {
        let mut a = Stats {
            cases: 3,
            execs: 9,
            ..Stats::default()
        };
        a.event("trap: unreachable");
        a.event("trap: unreachable");
        let mut b = Stats::default();
        for line in a.to_lines() {
            assert!(b.parse_line(&line), "{line}");
        }
        assert_eq!(b.cases, 3);
        assert_eq!(b.execs, 9);
        assert_eq!(b.events["trap: unreachable"], 2);
        assert!(!b.parse_line("garbage"));
    }
}
