//! `log` records forwarded to rcl logging, so they reach the console and `/rosout` like any ROS
//! node's and obey `--ros-args --log-level`. Also a per-reason rate limit for bad-input logs.

use std::cell::Cell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use log::{Level, LevelFilter, Log, Metadata, Record};

struct RclLogger {
    name: String,
}

thread_local! {
    // r2r itself logs through `log` when rcutils fails: never recurse.
    static IN_LOG: Cell<bool> = const { Cell::new(false) };
}

impl Log for RclLogger {
    fn enabled(&self, m: &Metadata) -> bool {
        // Our own records at any level (rcl applies --log-level); dependencies' warnings only.
        m.level() <= Level::Warn || m.target().starts_with("masked_fer")
    }

    fn log(&self, record: &Record) {
        if !self.enabled(record.metadata()) || IN_LOG.with(|f| f.replace(true)) {
            return;
        }
        let severity = match record.level() {
            Level::Error => r2r::LogSeverity::Error,
            Level::Warn => r2r::LogSeverity::Warn,
            Level::Info => r2r::LogSeverity::Info,
            Level::Debug | Level::Trace => r2r::LogSeverity::Debug,
        };
        // rcutils takes C strings: a NUL inside a message would cut it.
        let msg = record.args().to_string().replace('\0', "\u{FFFD}");
        r2r::log(
            &msg,
            &self.name,
            record.file().unwrap_or(""),
            record.line().unwrap_or(0),
            severity,
        );
        IN_LOG.with(|f| f.set(false));
    }

    fn flush(&self) {}
}

/// Route `log` to rcl under the node's logger name (once per process).
pub fn forward_to_rcl(logger_name: &str) {
    let logger = RclLogger {
        name: logger_name.to_string(),
    };
    if log::set_boxed_logger(Box::new(logger)).is_ok() {
        log::set_max_level(LevelFilter::Debug);
    }
}

/// Allows one message per key per interval: a camera sending bad frames at 30 Hz is logged
/// once, then at most every `interval` with the number suppressed in between.
#[derive(Debug)]
pub struct RateLimit {
    interval: Duration,
    seen: HashMap<String, (Instant, u64)>,
}

impl RateLimit {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            seen: HashMap::new(),
        }
    }

    /// `Some(suppressed since the last allowed message)` when a message for `key` may be logged.
    pub fn allow(&mut self, key: &str) -> Option<u64> {
        let now = Instant::now();
        match self.seen.get_mut(key) {
            Some((last, suppressed)) if now.duration_since(*last) < self.interval => {
                *suppressed += 1;
                None
            }
            Some((last, suppressed)) => {
                *last = now;
                Some(std::mem::take(suppressed))
            }
            None => {
                self.seen.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

/// A rate-limit key for an error message: its text without numbers, so "8x0" and "0x8" frames
/// share one reason.
pub fn reason_key(topic: &str, reason: &str) -> String {
    let text: String = reason.chars().filter(|c| !c.is_ascii_digit()).collect();
    format!("{topic}|{text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_message_per_reason_per_interval() {
        let mut r = RateLimit::new(Duration::from_secs(3600));
        let k = reason_key("/cam", "image has zero size (0x480)");
        assert_eq!(k, reason_key("/cam", "image has zero size (640x0)"));
        assert_ne!(k, reason_key("/other", "image has zero size (0x480)"));
        assert_eq!(r.allow(&k), Some(0));
        assert_eq!(r.allow(&k), None);
        assert_eq!(r.allow(&k), None);
        assert_eq!(r.allow("another"), Some(0));
        let mut r = RateLimit::new(Duration::ZERO);
        assert_eq!(r.allow(&k), Some(0));
        assert_eq!(r.allow(&k), Some(0));
    }
}
