//! Counters the node keeps, and the `/diagnostics` statuses made from them each period, in
//! diagnostic_updater's conventions: names prefixed `<node name>: `, a hardware id, levels
//! OK / WARN / ERROR / STALE, values as key/value strings.
//!
//! Per camera: a frequency status (received frames per second over the last period against
//! `diagnostics.min_rate` / `max_rate`; ERROR when no frame arrived). For the pipeline: latency
//! (frame received → results published) p50/p95/max, faces per second, frames processed,
//! superseded (dropped) and rejected with the last reason, model files, ONNX Runtime version,
//! and the process's heap: allocations per processed frame and live bytes (a leak shows as a
//! live heap that keeps growing).

use std::time::Duration;

use crate::alloc_count::{resident_bytes, HeapCounters};
use crate::report::stats::quantile;

pub const OK: u8 = 0;
pub const WARN: u8 = 1;
pub const ERROR: u8 = 2;
pub const STALE: u8 = 3;

/// One diagnostic status, free of message types.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub level: u8,
    pub name: String,
    pub message: String,
    pub hardware_id: String,
    pub values: Vec<(String, String)>,
}

#[derive(Debug, Clone, Default)]
struct Input {
    topic: String,
    received: u64,
    in_window: u64,
    superseded: u64,
    rejected: u64,
    /// Answered with results; with inference failures, superseded and rejected frames this
    /// accounts for every frame received once none waits (RELIABILITY.md, overload).
    processed: u64,
    failed: u64,
    last_frame: Option<Duration>,
    resolution: Option<(usize, usize)>,
    resolution_changes: u64,
    /// Why the graph says no publisher can deliver, if it says so ([`super::input_match`]).
    problem: Option<String>,
}

/// Counters shared by the receiving tasks, the processing thread and the diagnostics timer.
/// Times (`now`) are the node's ROS clock since its epoch, so rates follow `/clock` with
/// `use_sim_time`; latencies are wall-clock durations.
#[derive(Debug)]
pub struct Stats {
    inputs: Vec<Input>,
    started: Duration,
    window_start: Duration,
    faces: u64,
    window_faces: u64,
    /// Frames of this window that went through the full-frame detector.
    window_keyframes: u64,
    /// Whether the last frame did.
    last_keyframe: Option<bool>,
    window_latencies_ms: Vec<f64>,
    window_rejected: u64,
    window_failures: u64,
    last_rejection: Option<String>,
    last_failure: Option<String>,
    /// Heap counters at the start of the window (None without the counting allocator).
    window_heap: Option<HeapCounters>,
}

impl Stats {
    pub fn new(topics: &[String], now: Duration) -> Self {
        Self {
            inputs: topics
                .iter()
                .map(|t| Input {
                    topic: t.clone(),
                    ..Default::default()
                })
                .collect(),
            started: now,
            window_start: now,
            faces: 0,
            window_faces: 0,
            window_keyframes: 0,
            last_keyframe: None,
            window_latencies_ms: Vec::new(),
            window_rejected: 0,
            window_failures: 0,
            last_rejection: None,
            last_failure: None,
            window_heap: HeapCounters::now(),
        }
    }

    /// A frame arrived on camera `i`; `superseded` when it replaced one not yet processed.
    pub fn received(&mut self, i: usize, superseded: bool, now: Duration) {
        if let Some(s) = self.inputs.get_mut(i) {
            s.received += 1;
            s.in_window += 1;
            s.superseded += u64::from(superseded);
            s.last_frame = Some(now);
        }
    }

    /// A frame of camera `i` could not be used (malformed, unknown encoding, corrupt data).
    pub fn rejected(&mut self, i: usize, reason: &str) {
        if let Some(s) = self.inputs.get_mut(i) {
            s.rejected += 1;
        }
        self.window_rejected += 1;
        self.last_rejection = Some(format!("{}: {reason}", self.topic(i)));
    }

    /// Inference failed on a good frame of camera `i` (a model problem, not the camera's).
    pub fn failed(&mut self, i: usize, reason: &str) {
        if let Some(s) = self.inputs.get_mut(i) {
            s.failed += 1;
        }
        self.window_failures += 1;
        self.last_failure = Some(reason.to_string());
    }

    /// Camera `i` produced a frame of `size` (width, height); true when the size changed.
    pub fn resolution(&mut self, i: usize, size: (usize, usize)) -> bool {
        let Some(s) = self.inputs.get_mut(i) else {
            return false;
        };
        let changed = s.resolution.is_some_and(|r| r != size);
        s.resolution_changes += u64::from(changed);
        s.resolution = Some(size);
        changed
    }

    /// What the graph says about camera `i` now; returns the reason when it is new (to log once).
    pub fn input_problem(&mut self, i: usize, problem: Option<String>) -> Option<String> {
        let s = self.inputs.get_mut(i)?;
        let new = problem.is_some() && problem != s.problem;
        s.problem = problem;
        s.problem.clone().filter(|_| new)
    }

    /// A frame of camera `i` was processed and its results published; `keyframe`: the whole
    /// frame went through the detector (else regions around followed faces).
    pub fn processed(&mut self, i: usize, latency: Duration, faces: usize, keyframe: bool) {
        if let Some(s) = self.inputs.get_mut(i) {
            s.processed += 1;
        }
        self.faces += faces as u64;
        self.window_faces += faces as u64;
        self.window_keyframes += u64::from(keyframe);
        self.last_keyframe = Some(keyframe);
        self.window_latencies_ms.push(latency.as_secs_f64() * 1e3);
    }

    pub fn topic(&self, i: usize) -> &str {
        self.inputs.get(i).map_or("?", |s| s.topic.as_str())
    }

    /// The statuses for the window since the last call, which starts a new window.
    pub fn report(
        &mut self,
        now: Duration,
        node: &str,
        limits: &Limits,
        about: &[(String, String)],
    ) -> Vec<Status> {
        let window = now
            .saturating_sub(self.window_start)
            .as_secs_f64()
            .max(1e-3);
        let mut out: Vec<Status> = self
            .inputs
            .iter()
            .map(|s| input_status(node, s, window, now, self.started, limits))
            .collect();
        out.push(self.pipeline_status(node, window, about));
        for s in &mut self.inputs {
            s.in_window = 0;
        }
        self.window_start = now;
        self.window_faces = 0;
        self.window_keyframes = 0;
        self.window_latencies_ms.clear();
        self.window_rejected = 0;
        self.window_failures = 0;
        self.window_heap = HeapCounters::now();
        out
    }

    fn pipeline_status(&self, node: &str, window: f64, about: &[(String, String)]) -> Status {
        let processed: u64 = self.inputs.iter().map(|s| s.processed).sum();
        let superseded: u64 = self.inputs.iter().map(|s| s.superseded).sum();
        let rejected: u64 = self.inputs.iter().map(|s| s.rejected).sum();
        let (level, message) = if self.window_failures > 0 {
            (
                ERROR,
                format!(
                    "inference failed on {} frames: {}",
                    self.window_failures,
                    self.last_failure.as_deref().unwrap_or("")
                ),
            )
        } else if self.window_rejected > 0 {
            (
                WARN,
                format!(
                    "{} frames rejected: {}",
                    self.window_rejected,
                    self.last_rejection.as_deref().unwrap_or("")
                ),
            )
        } else if processed == 0 {
            (STALE, "no frame processed yet".to_string())
        } else if self.window_latencies_ms.is_empty() {
            (OK, "idle (no new frames)".to_string())
        } else {
            (OK, "processing".to_string())
        };
        let mut lat = self.window_latencies_ms.clone();
        lat.sort_by(f64::total_cmp);
        let pick = |q: f64| {
            if lat.is_empty() {
                "n/a".to_string()
            } else {
                format!("{:.2}", quantile(&lat, q))
            }
        };
        let mut values = vec![
            kv("Latency p50 (ms)", pick(0.5)),
            kv("Latency p95 (ms)", pick(0.95)),
            kv("Latency max (ms)", pick(1.0)),
            kv(
                "Frames per second",
                format!("{:.2}", lat.len() as f64 / window),
            ),
            kv(
                "Faces per second",
                format!("{:.2}", self.window_faces as f64 / window),
            ),
            kv(
                "Keyframes per second",
                format!("{:.2}", self.window_keyframes as f64 / window),
            ),
            kv(
                "Detection mode",
                match self.last_keyframe {
                    None => "n/a",
                    Some(true) => "full frame",
                    Some(false) => "regions",
                }
                .into(),
            ),
            kv("Frames processed", processed.to_string()),
            kv("Faces found", self.faces.to_string()),
            kv("Frames dropped (superseded)", superseded.to_string()),
            kv("Frames rejected", rejected.to_string()),
            kv(
                "Last rejection",
                self.last_rejection.clone().unwrap_or_else(|| "none".into()),
            ),
        ];
        if let (Some(start), Some(now)) = (self.window_heap, HeapCounters::now()) {
            let d = now.since(&start);
            let per_frame = if lat.is_empty() {
                "n/a".to_string()
            } else {
                format!("{:.0}", d.allocations as f64 / lat.len() as f64)
            };
            values.push(kv("Heap allocations per frame", per_frame));
            values.push(kv("Heap live (KiB)", (now.live / 1024).to_string()));
        }
        if let Some(rss) = resident_bytes() {
            values.push(kv(
                "Resident memory (MiB)",
                format!("{:.1}", rss as f64 / 1048576.0),
            ));
        }
        values.extend(about.iter().cloned());
        Status {
            level,
            name: format!("{node}: pipeline"),
            message,
            hardware_id: "cpu".into(),
            values,
        }
    }
}

/// Acceptable input rates.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub min_rate: f64,
    pub max_rate: f64,
}

fn kv(k: &str, v: String) -> (String, String) {
    (k.to_string(), v)
}

fn input_status(
    node: &str,
    s: &Input,
    window: f64,
    now: Duration,
    started: Duration,
    limits: &Limits,
) -> Status {
    let rate = s.in_window as f64 / window;
    let silent = now
        .saturating_sub(s.last_frame.unwrap_or(started))
        .as_secs_f64();
    let (level, message) = if s.in_window == 0 {
        let why = s
            .problem
            .as_ref()
            .map(|p| format!(": {p}"))
            .unwrap_or_default();
        (ERROR, format!("no frames for {silent:.1} s{why}"))
    } else if rate < limits.min_rate {
        (WARN, "frequency too low".to_string())
    } else if rate > limits.max_rate {
        (WARN, "frequency too high".to_string())
    } else {
        (OK, "receiving".to_string())
    };
    Status {
        level,
        name: format!("{node}: input {}", s.topic),
        message,
        hardware_id: s.topic.clone(),
        values: vec![
            kv("Events in window", s.in_window.to_string()),
            kv("Events since startup", s.received.to_string()),
            kv("Duration of window (s)", format!("{window:.2}")),
            kv("Actual frequency (Hz)", format!("{rate:.2}")),
            kv(
                "Minimum acceptable frequency (Hz)",
                format!("{:.2}", limits.min_rate),
            ),
            kv(
                "Maximum acceptable frequency (Hz)",
                format!("{:.2}", limits.max_rate),
            ),
            kv("Frames processed", s.processed.to_string()),
            kv("Frames dropped (superseded)", s.superseded.to_string()),
            kv("Frames rejected", s.rejected.to_string()),
            kv("Frames failed (inference)", s.failed.to_string()),
            kv(
                "Resolution",
                s.resolution
                    .map_or("unknown".into(), |(w, h)| format!("{w}x{h}")),
            ),
            kv("Resolution changes", s.resolution_changes.to_string()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        min_rate: 5.0,
        max_rate: 1e6,
    };

    fn value<'a>(s: &'a Status, key: &str) -> &'a str {
        &s.values.iter().find(|(k, _)| k == key).unwrap().1
    }

    #[test]
    fn silent_camera_is_an_error_and_nothing_processed_is_stale() {
        let t = Duration::from_secs(1000);
        let mut st = Stats::new(&["/cam".to_string()], t);
        let r = st.report(t + Duration::from_secs(1), "masked_fer", &LIMITS, &[]);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].level, r[0].name.as_str()),
            (ERROR, "masked_fer: input /cam")
        );
        assert_eq!(r[0].hardware_id, "/cam");
        assert_eq!(
            (r[1].level, r[1].name.as_str()),
            (STALE, "masked_fer: pipeline")
        );
        // A reason from the graph is reported once, then carried by the status while it holds.
        let why = || Some("publisher /cam_driver is best effort".to_string());
        assert_eq!(st.input_problem(0, why()), why());
        assert_eq!(st.input_problem(0, why()), None);
        let r = st.report(t + Duration::from_secs(2), "masked_fer", &LIMITS, &[]);
        assert_eq!(r[0].message.split(':').next(), Some("no frames for 2.0 s"));
        assert!(
            r[0].message
                .ends_with(": publisher /cam_driver is best effort"),
            "{}",
            r[0].message
        );
        assert_eq!(st.input_problem(0, None), None);
        assert!(
            !st.report(t + Duration::from_secs(3), "masked_fer", &LIMITS, &[])[0]
                .message
                .contains("publisher")
        );
    }

    #[test]
    fn counts_drops_rejections_and_latency() {
        // A simulated clock: ten frames in 0.5 s of its time are 20 Hz, whatever the wall says.
        let t = |ms: u64| Duration::from_millis(5_000_000 + ms);
        let mut st = Stats::new(&["/a".to_string(), "/b".to_string()], t(0));
        for i in 0..10 {
            st.received(0, i % 2 == 1, t(50 * i));
        }
        st.rejected(1, "unknown encoding \"foo\"");
        assert!(!st.resolution(0, (640, 480)));
        assert!(st.resolution(0, (320, 240)));
        for ms in [10, 20, 30, 40] {
            st.processed(0, Duration::from_millis(ms), 2, ms <= 20);
        }
        let r = st.report(
            t(500),
            "n",
            &LIMITS,
            &[("ONNX Runtime".into(), "1.31.1".into())],
        );
        assert_eq!(r[0].level, OK, "{:?}", r[0]);
        assert_eq!(value(&r[0], "Actual frequency (Hz)"), "20.00");
        assert_eq!(value(&r[0], "Frames dropped (superseded)"), "5");
        assert_eq!(value(&r[0], "Frames processed"), "4");
        assert_eq!(value(&r[1], "Frames rejected"), "1");
        assert_eq!(value(&r[0], "Resolution changes"), "1");
        assert_eq!(r[1].level, ERROR, "camera b sent nothing but a bad frame");
        assert_eq!(r[2].level, WARN);
        assert!(
            r[2].message.contains("/b: unknown encoding"),
            "{}",
            r[2].message
        );
        assert_eq!(value(&r[2], "Latency p50 (ms)"), "30.00");
        assert_eq!(value(&r[2], "Latency max (ms)"), "40.00");
        assert_eq!(value(&r[2], "Faces found"), "8");
        assert_eq!(value(&r[2], "Keyframes per second"), "4.00");
        assert_eq!(value(&r[2], "Detection mode"), "regions");
        assert_eq!(value(&r[2], "ONNX Runtime"), "1.31.1");
        // A new window: nothing new arrived.
        let r = st.report(t(1500), "n", &LIMITS, &[]);
        assert_eq!(r[0].level, ERROR);
        assert_eq!(
            (r[2].level, r[2].message.as_str()),
            (OK, "idle (no new frames)")
        );
        assert_eq!(value(&r[2], "Frames rejected"), "1");
    }
}
