//! The progress line and summary on stderr, drawn only when stderr is a
//! terminal: a pipe or a log file gets nothing but errors.

use std::io::{self, IsTerminal, Write};
use std::time::{Duration, Instant};

/// A `\r`-redrawn progress line.
#[derive(Debug)]
pub(crate) struct Progress {
    enabled: bool,
    start: Instant,
    drawn: bool,
}

impl Progress {
    /// Enabled when stderr is a terminal.
    pub(crate) fn new() -> Self {
        Self::with_enabled(io::stderr().is_terminal())
    }

    pub(crate) fn with_enabled(enabled: bool) -> Self {
        Self {
            enabled,
            start: Instant::now(),
            drawn: false,
        }
    }

    /// Whether anything is drawn at all.
    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn enabled(&self) -> bool {
        self.enabled
    }

    /// Redraws the line: pages done of the total, videos, rate.
    pub(crate) fn update(&mut self, pages_done: u32, last_page: Option<u64>, videos: u64) {
        if !self.enabled {
            return;
        }
        let line = progress_line(pages_done, last_page, videos, self.start.elapsed());
        // Write errors on stderr are ignored: progress is best effort.
        let _ = write!(io::stderr().lock(), "\r\x1b[2K{line}");
        self.drawn = true;
    }

    /// Erases the line (before results or errors are printed).
    pub(crate) fn clear(&mut self) {
        if self.enabled && self.drawn {
            let _ = write!(io::stderr().lock(), "\r\x1b[2K");
            self.drawn = false;
        }
    }

    /// Erases the line and prints `summary` in its place.
    pub(crate) fn finish(&mut self, summary: &str) {
        self.clear();
        if self.enabled {
            let _ = writeln!(io::stderr().lock(), "{summary}");
        }
    }

    /// Prints a note line (only on a terminal).
    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn note(&mut self, note: &str) {
        self.finish(note);
    }

    /// Time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

fn progress_line(
    pages_done: u32,
    last_page: Option<u64>,
    videos: u64,
    elapsed: Duration,
) -> String {
    let total = last_page.map_or_else(|| "?".to_owned(), |n| n.to_string());
    format!(
        "page {pages_done}/{total} · {videos} videos · {}",
        rate(videos, elapsed)
    )
}

/// `12.3 videos/s`, or `-` before any time has passed.
pub(crate) fn rate(videos: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    if secs <= 0.0 {
        return "- videos/s".to_owned();
    }
    #[allow(clippy::cast_precision_loss)] // a rate for people
    let per_sec = videos as f64 / secs;
    format!("{per_sec:.0} videos/s")
}

/// `retrying in 4.6 s (attempt 3 of 4): <why the last one failed>`.
pub(crate) fn retry_line(
    delay: Duration,
    next_attempt: u32,
    max_attempts: u32,
    error: &polyv_core::Error,
) -> String {
    format!(
        "retrying in {:.1} s (attempt {next_attempt} of {max_attempts}): {error}",
        delay.as_secs_f64()
    )
}

/// The summary after a walk.
pub(crate) fn summary(videos: u64, pages: u32, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64();
    let precision = if secs < 10.0 { 2 } else { 1 };
    format!(
        "{videos} video{} from {pages} page{} in {secs:.precision$}s ({})",
        if videos == 1 { "" } else { "s" },
        if pages == 1 { "" } else { "s" },
        rate(videos, elapsed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        assert_eq!(
            progress_line(3, Some(13), 60, Duration::from_secs(2)),
            "page 3/13 · 60 videos · 30 videos/s"
        );
        assert_eq!(
            progress_line(0, None, 0, Duration::ZERO),
            "page 0/? · 0 videos · - videos/s"
        );
        assert_eq!(
            summary(1, 1, Duration::from_millis(500)),
            "1 video from 1 page in 0.50s (2 videos/s)"
        );
        assert_eq!(
            retry_line(
                Duration::from_millis(4600),
                3,
                4,
                &polyv_core::Error::QueryFailed
            ),
            "retrying in 4.6 s (attempt 3 of 4): the server failed the query (server said `query failed.`); retrying may help"
        );
        // Disabled progress writes nothing and does not fail.
        let mut p = Progress::with_enabled(false);
        p.update(1, Some(2), 3);
        p.finish("done");
        assert!(!p.enabled());
    }
}
