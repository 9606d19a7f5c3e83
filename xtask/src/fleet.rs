//! `cargo xtask bench`'s fleet row: polyv-redis's fleet test (4 processes ×
//! 4 threads against a mock limited to 150 requests per 1 s window), run
//! optimised, its result line appended to the report as one small section.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use crate::Failure;

/// Runs the fleet test and appends its figures to `report`.
pub(crate) fn row(report: &Path) -> Result<(), Failure> {
    let section = match measure() {
        Ok(line) => render(&line),
        Err(why) => {
            format!("\n## 6. A fleet sharing one limit (polyv-redis)\n\nNot measured: {why}\n")
        }
    };
    let mut text = std::fs::read_to_string(report)
        .map_err(|e| Failure(format!("cannot read {}: {e}", report.display())))?;
    text.push_str(&section);
    std::fs::write(report, text)
        .map_err(|e| Failure(format!("cannot write {}: {e}", report.display())))?;
    print!("{section}");
    Ok(())
}

/// The test's `fleet-result ...` line.
fn measure() -> Result<String, String> {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err("redis-server is not installed (apt-get install -y redis-server).".into());
    }
    let args = [
        "test",
        "--release",
        "--quiet",
        "-p",
        "polyv-redis",
        "--test",
        "fleet",
        "--",
        "--nocapture",
    ];
    eprintln!("xtask: cargo {}", args.join(" "));
    let out = Command::new(env!("CARGO"))
        .args(args)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("fleet-result "))
        .map(str::to_owned);
    match (out.status.success(), line) {
        (true, Some(line)) => Ok(line),
        (_, line) => Err(format!(
            "the fleet test failed ({}){}",
            out.status,
            line.map(|l| format!(": {l}")).unwrap_or_default()
        )),
    }
}

fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or("?")
}

fn percent(ratio: &str) -> String {
    ratio
        .parse::<f64>()
        .map_or_else(|_| "?".into(), |r| format!("{:.1}%", r * 100.0))
}

fn render(line: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\n## 6. A fleet sharing one limit (polyv-redis)\n");
    let _ = writeln!(
        s,
        "4 processes × 4 threads of polyv-blocking, each paced alone at 138 requests/s, against one polyv-mock limited \
         to 150 requests per 1 s window per IP (then a 2 s block): `cargo test --release -p polyv-redis --test fleet`. \
         Throughput ÷ limit from the mock's log.\n"
    );
    let _ = writeln!(s, "| Fleet | Throughput ÷ limit | Blocked |\n|---|---|---|");
    let _ = writeln!(
        s,
        "| shared limiter (Redis) | {} (per window: {}) | none |",
        percent(field(line, "shared_ratio")),
        line.split_once("shared_windows=")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map_or_else(|| "?".to_owned(), |(w, _)| format!("{w}]"))
    );
    let _ = writeln!(
        s,
        "| each process alone (control) | {} accepted | {} of {} requests refused |",
        percent(field(line, "control_accepted_ratio")),
        field(line, "control_blocked"),
        field(line, "control_requests")
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_reads_the_test_line() {
        let row = render(
            "fleet-result shared_ratio=0.920 shared_windows=[138, 138, 138] control_accepted_ratio=0.478 control_blocked=16 control_requests=182",
        );
        assert!(
            row.contains("| shared limiter (Redis) | 92.0% (per window: [138, 138, 138]) | none |"),
            "{row}"
        );
        assert!(
            row.contains("| 47.8% accepted | 16 of 182 requests refused |"),
            "{row}"
        );
        assert!(render("fleet-result").contains("| ? (per window: ?)"));
    }
}
