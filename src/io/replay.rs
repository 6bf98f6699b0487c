//! Replay: every camera frame of a bag through the same [`CameraSession`] the node uses, results into
//! a new bag (one `vision_msgs/Detection2DArray` per input frame, empty when there is no face or
//! the frame could not be decoded; ROS4HRI expressions of confirmed tracks) and a summary.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::io::bag::msgs::{self, CompressedImage, Header, Image, RosMessage};
use crate::io::bag::{Bag, BagError, BagMessage, BagWriter, Skipped, TopicInfo};
use crate::perception::detect::BBox;
use crate::perception::pipeline::Pipeline;
use crate::report::stats::Percentiles;
use crate::tracking::frame::{CameraSession, FrameImages, FrameInput};
use crate::tracking::messages;
use crate::tracking::track::TrackerConfig;

pub const IMAGE_TYPE: &str = Image::TYPE;
pub const COMPRESSED_TYPE: &str = CompressedImage::TYPE;
pub const DETECTIONS_TOPIC: &str = "/masked_fer/detections";

/// Image topics of a bag (raw and compressed), by name.
pub fn image_topics(topics: &[TopicInfo]) -> Vec<&TopicInfo> {
    topics
        .iter()
        .filter(|t| t.type_name == IMAGE_TYPE || t.type_name == COMPRESSED_TYPE)
        .collect()
}

/// One input frame's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct FrameRecord {
    pub topic: String,
    /// Header stamp of the image, nanoseconds.
    pub stamp_ns: i64,
    pub faces: usize,
    /// Why the frame could not be processed, if it could not.
    pub error: Option<String>,
    pub decode_ms: f64,
    pub detect_ms: f64,
    pub classify_ms: f64,
    /// Every face: track, box, best (smoothed) expression.
    pub expressions: Vec<FaceRecord>,
    /// With `--rate`: superseded by a newer frame before the node was free (not processed).
    pub dropped: bool,
    /// With `--rate`: from the frame's arrival to its result, ms.
    pub latency_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FaceRecord {
    pub track: u64,
    pub bbox: BBox,
    pub expression: String,
    pub confidence: f32,
}

/// What to replay and what to write.
#[derive(Debug, Clone, Default)]
pub struct ReplayOptions {
    /// Image topics to replay; empty = every image topic.
    pub topics: Vec<String>,
    pub tracker: TrackerConfig,
    /// Also write each frame with its faces drawn (`/masked_fer/debug_image`, rgb8).
    pub annotate: bool,
    /// Feed frames at their recorded times, `rate` x real time, dropping what a live node would.
    pub rate: Option<f64>,
}

pub const DEBUG_IMAGE_TOPIC: &str = "/masked_fer/debug_image";

/// Replay `bag` on `options.topics` (all image topics when empty). `writer` receives the result
/// messages; `on_frame` sees each record with the message's receive time (progress bars) and
/// may stop the replay after it ([`BagError::Stopped`]: on a signal).
/// Returns the records of every frame, and either the parts of the bag passed over as
/// unreadable (corrupt MCAP chunks; the frames around them are replayed) or the error that
/// stopped the replay early (a truncated bag, a failed write).
///
/// With `options.rate`, frames are fed at their recorded receive times (scaled by the rate) and
/// handled as a live node would: when a frame is done and a newer frame of the same topic has
/// already arrived, frames in between are dropped (they still get an empty Detection2DArray and
/// are counted); latency is measured from a frame's arrival to its result.
pub fn replay<'a>(
    bag: &Bag,
    options: &'a ReplayOptions,
    pipeline: &'a mut Pipeline,
    writer: Option<&'a mut BagWriter>,
    on_frame: impl FnMut(&FrameRecord, u64) -> ControlFlow<()> + 'a,
) -> (Vec<FrameRecord>, Result<Vec<Skipped>, BagError>) {
    // Face ids are per camera: every image topic the replay reads, in name order.
    let names: Vec<String> = bag
        .topics()
        .map(|t| {
            image_topics(&t)
                .into_iter()
                .map(|t| t.name.clone())
                .filter(|n| options.topics.is_empty() || options.topics.contains(n))
                .collect()
        })
        .unwrap_or_default();
    let cameras = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                n.clone(),
                CameraSession::new(i, names.len(), options.tracker),
            )
        })
        .collect();
    let mut run = Run {
        options,
        pipeline,
        writer,
        cameras,
        records: Vec::new(),
        on_frame: Box::new(on_frame),
    };
    let mut clock: Option<(Instant, u64)> = None;
    let mut pending: BTreeMap<String, BagMessage> = BTreeMap::new();
    let due = |clock: &mut Option<(Instant, u64)>, rate: f64, log_time: u64| {
        let (t0, l0) = *clock.get_or_insert((Instant::now(), log_time));
        t0 + Duration::from_secs_f64(log_time.saturating_sub(l0) as f64 / 1e9 / rate)
    };
    let mut outcome = bag.for_each(|m: BagMessage| {
        if !(m.type_name == IMAGE_TYPE || m.type_name == COMPRESSED_TYPE)
            || !(options.topics.is_empty() || options.topics.contains(&m.topic))
        {
            return Ok(());
        }
        let Some(rate) = options.rate else {
            return run.frame(&m, false, None);
        };
        let arrives = due(&mut clock, rate, m.log_time);
        if let Some(prev) = pending.remove(&m.topic) {
            let prev_due = due(&mut clock, rate, prev.log_time);
            if Instant::now() >= arrives {
                run.frame(&prev, true, Some(prev_due))?; // superseded while the node was busy
            } else {
                sleep_until(prev_due);
                run.frame(&prev, false, Some(prev_due))?;
            }
        }
        pending.insert(m.topic.clone(), m);
        Ok(())
    });
    if outcome.is_ok() {
        let mut rest: Vec<BagMessage> = pending.into_values().collect();
        rest.sort_by_key(|m| m.log_time);
        for m in rest {
            let d = due(&mut clock, options.rate.unwrap_or(1.0), m.log_time);
            sleep_until(d);
            if let Err(e) = run.frame(&m, false, Some(d)) {
                outcome = Err(e);
                break;
            }
        }
    }
    (run.records, outcome)
}

fn sleep_until(t: Instant) {
    if let Some(d) = t.checked_duration_since(Instant::now()) {
        std::thread::sleep(d);
    }
}

/// An image message of a bag, parsed: its header and its pixels.
enum Parsed {
    Raw(Image),
    Compressed(CompressedImage),
}

impl Parsed {
    fn parse(m: &BagMessage) -> Result<Self, BagError> {
        if m.type_name == Image::TYPE {
            msgs::from_cdr(&m.data, &m.type_name).map(Parsed::Raw)
        } else {
            msgs::from_cdr(&m.data, &m.type_name).map(Parsed::Compressed)
        }
    }

    fn header(&self) -> &Header {
        match self {
            Parsed::Raw(i) => &i.header,
            Parsed::Compressed(i) => &i.header,
        }
    }

    fn input(&self) -> FrameInput<'_> {
        match self {
            Parsed::Raw(i) => FrameInput::Raw(i.as_raw()),
            Parsed::Compressed(i) => FrameInput::Compressed {
                format: &i.format,
                data: &i.data,
            },
        }
    }
}

/// Called with each frame's record and the message's receive time.
type OnFrame<'a> = dyn FnMut(&FrameRecord, u64) -> ControlFlow<()> + 'a;

/// State of one replay.
struct Run<'a> {
    options: &'a ReplayOptions,
    pipeline: &'a mut Pipeline,
    writer: Option<&'a mut BagWriter>,
    /// One session per image topic read, in name order (face ids are per camera).
    cameras: BTreeMap<String, CameraSession>,
    records: Vec<FrameRecord>,
    on_frame: Box<OnFrame<'a>>,
}

impl Run<'_> {
    /// Process (or, when `dropped`, only account for) one frame and write its results.
    fn frame(
        &mut self,
        m: &BagMessage,
        dropped: bool,
        arrived: Option<Instant>,
    ) -> Result<(), BagError> {
        let parsed = Parsed::parse(m);
        let header = parsed
            .as_ref()
            .map(|p| p.header().clone())
            .unwrap_or_default();
        let stamp_ns = header.stamp.as_nanos();
        let mut record = FrameRecord {
            topic: m.topic.clone(),
            stamp_ns,
            faces: 0,
            error: None,
            decode_ms: 0.0,
            detect_ms: 0.0,
            classify_ms: 0.0,
            expressions: Vec::new(),
            dropped,
            latency_ms: None,
        };
        let images = FrameImages {
            debug: self.options.annotate && self.writer.is_some(),
            ..Default::default()
        };
        // A topic the bag's index did not list (an unreadable index) is still replayed, with
        // ids as for a single camera.
        let tracker = self.options.tracker;
        let camera = self
            .cameras
            .entry(m.topic.clone())
            .or_insert_with(|| CameraSession::new(0, 1, tracker));
        let output = match &parsed {
            _ if dropped => None,
            Ok(p) => match camera.process(self.pipeline, &p.input(), stamp_ns, &images) {
                Ok(out) => Some(out),
                Err(e) => {
                    record.error = Some(crate::chain(&e));
                    None
                }
            },
            Err(e) => {
                record.error = Some(crate::chain(&e));
                None
            }
        };
        let faces = output.as_ref().map_or(&[][..], |o| &o.faces[..]);
        if let Some(out) = &output {
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            (record.decode_ms, record.detect_ms, record.classify_ms) = (
                ms(out.times.decode),
                ms(out.times.detect),
                ms(out.times.classify),
            );
            record.faces = faces.len();
            record.expressions = faces
                .iter()
                .filter_map(|f| {
                    f.hypotheses.first().map(|(label, p)| FaceRecord {
                        track: f.track,
                        bbox: f.bbox,
                        expression: label.clone(),
                        confidence: *p,
                    })
                })
                .collect();
        }
        if let Some(w) = self.writer.as_deref_mut() {
            let t = if stamp_ns > 0 {
                stamp_ns as u64
            } else {
                m.log_time
            };
            w.write(DETECTIONS_TOPIC, t, &messages::detections(&header, faces))?;
            for face in faces.iter().filter(|f| f.confirmed) {
                if let Some(e) = &face.expression {
                    let topic = format!("/humans/faces/{}/expression", face.id);
                    w.write(&topic, t, &messages::expression(&header, e))?;
                }
            }
            if let Some(img) = output.and_then(|o| o.debug_image) {
                w.write(DEBUG_IMAGE_TOPIC, t, &messages::image(&header, img))?;
            }
        }
        let go_on = (self.on_frame)(&record, m.log_time);
        record.latency_ms = arrived
            .filter(|_| !dropped)
            .map(|t| t.elapsed().as_secs_f64() * 1e3);
        self.records.push(record);
        match go_on {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(BagError::Stopped),
        }
    }
}

/// Per-topic totals of a replay.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TopicSummary {
    pub frames: usize,
    pub frames_with_faces: usize,
    pub faces: usize,
    pub failed: usize,
    /// With `--rate`: frames a live node would have dropped.
    pub dropped: usize,
    /// With `--rate`: arrival to result.
    pub latency_ms: Percentiles,
    pub decode_ms: Percentiles,
    pub detect_ms: Percentiles,
    pub classify_ms: Percentiles,
    pub total_ms: Percentiles,
    /// Best expression per face, counted.
    pub expressions: BTreeMap<String, usize>,
    /// Per track: frames seen and the expression seen most often.
    pub tracks: BTreeMap<u64, TrackSummary>,
    /// Frames that could not be processed: (stamp ns, reason).
    pub failures: Vec<(i64, String)>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TrackSummary {
    pub frames: usize,
    pub first_stamp_ns: i64,
    pub last_stamp_ns: i64,
    pub expressions: BTreeMap<String, usize>,
}

pub fn summarise(records: &[FrameRecord]) -> BTreeMap<String, TopicSummary> {
    let mut out: BTreeMap<String, TopicSummary> = BTreeMap::new();
    let mut times: BTreeMap<String, [Vec<f64>; 5]> = BTreeMap::new();
    for r in records {
        let s = out.entry(r.topic.clone()).or_default();
        s.frames += 1;
        s.faces += r.faces;
        s.frames_with_faces += usize::from(r.faces > 0);
        if let Some(e) = &r.error {
            s.failed += 1;
            s.failures.push((r.stamp_ns, e.clone()));
            continue;
        }
        if r.dropped {
            s.dropped += 1;
            continue;
        }
        let t = times.entry(r.topic.clone()).or_default();
        t[0].push(r.decode_ms);
        t[1].push(r.detect_ms);
        t[2].push(r.classify_ms);
        t[3].push(r.decode_ms + r.detect_ms + r.classify_ms);
        t[4].extend(r.latency_ms);
        for f in &r.expressions {
            let (id, expr) = (&f.track, &f.expression);
            *s.expressions.entry(expr.clone()).or_default() += 1;
            let tr = s.tracks.entry(*id).or_insert_with(|| TrackSummary {
                first_stamp_ns: r.stamp_ns,
                ..Default::default()
            });
            tr.frames += 1;
            tr.last_stamp_ns = r.stamp_ns;
            *tr.expressions.entry(expr.clone()).or_default() += 1;
        }
    }
    for (topic, [d, det, c, tot, lat]) in times {
        if let Some(s) = out.get_mut(&topic) {
            (
                s.decode_ms,
                s.detect_ms,
                s.classify_ms,
                s.total_ms,
                s.latency_ms,
            ) = (
                Percentiles::of(d),
                Percentiles::of(det),
                Percentiles::of(c),
                Percentiles::of(tot),
                Percentiles::of(lat),
            );
        }
    }
    out
}
