//! Every setting of the node, declared once ([`SPECS`]): name, description, accepted range,
//! whether it may change while running, and how it is read from and written to [`NodeParams`]
//! (whose `Default` holds the defaults). The node's ROS parameters and `--help`, the params-file
//! loader of the CLI and replay ([`NodeParams::from_file`]) and `params/default.yaml` (checked by
//! a test below) all come from this table.

use std::path::Path;
use std::sync::OnceLock;

use crate::config::{ConfigError, PipelineConfig, Range};
use crate::perception::detect::{DetectorConfig, DetectorKind};
use crate::tracking::track::TrackerConfig;

/// A parameter value as ROS 2 types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Integer(i64),
    Double(f64),
    String(String),
    StringArray(Vec<String>),
    /// A type no parameter here takes (byte, bool, integer or double arrays; not set), as text.
    Other(String),
}

/// How images arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// sensor_msgs/Image on each topic.
    Raw,
    /// sensor_msgs/CompressedImage on `<topic>/compressed`.
    Compressed,
}

impl Transport {
    /// The topic a camera's images arrive on, and their message type.
    pub fn input(self, camera: &str) -> (String, &'static str) {
        match self {
            Transport::Raw => (camera.to_string(), "sensor_msgs/msg/Image"),
            Transport::Compressed => (
                format!("{}/compressed", camera.trim_end_matches('/')),
                "sensor_msgs/msg/CompressedImage",
            ),
        }
    }
}

/// The camera_info topic beside a camera's image topic, as image_transport pairs them: the image
/// topic's last name replaced by `camera_info` (`/camera/image_raw` -> `/camera/camera_info`).
pub fn camera_info_topic(camera: &str) -> String {
    let camera = camera.trim_end_matches('/');
    match camera.rfind('/') {
        Some(i) => format!("{}/camera_info", &camera[..i]),
        None => "camera_info".into(),
    }
}

/// Settings of the node (the pipeline's plus the ROS side's).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeParams {
    pub image_topics: Vec<String>,
    pub transport: Transport,
    pub reliable: bool,
    pub qos_depth: usize,
    pub publish_debug_image: bool,
    pub hri_enabled: bool,
    pub hri_cropped: bool,
    pub hri_aligned: bool,
    pub hri_face_size: u32,
    pub hri_landmarks: bool,
    pub hri_tf: bool,
    pub hri_face_width: f64,
    pub diagnostics_period: f64,
    pub min_rate: f64,
    pub max_rate: f64,
    pub autostart: bool,
    pub use_sim_time: bool,
    pub pipeline: PipelineConfig,
    pub tracker: TrackerConfig,
}

impl Default for NodeParams {
    fn default() -> Self {
        Self {
            image_topics: vec!["/camera/image_raw".into()],
            transport: Transport::Raw,
            reliable: false,
            qos_depth: 5,
            publish_debug_image: false,
            hri_enabled: true,
            hri_cropped: true,
            hri_aligned: true,
            hri_face_size: 128,
            hri_landmarks: true,
            hri_tf: true,
            hri_face_width: 0.15,
            diagnostics_period: 1.0,
            min_rate: 5.0,
            max_rate: 100.0,
            autostart: true,
            use_sim_time: false,
            pipeline: PipelineConfig::default(),
            tracker: TrackerConfig::default(),
        }
    }
}

/// One value given for one parameter, read with the parameter's type and range.
pub struct Given<'a> {
    spec: &'static Spec,
    value: &'a Value,
}

impl Given<'_> {
    fn wrong(&self, expected: &'static str) -> ConfigError {
        ConfigError::WrongType {
            name: self.spec.name,
            expected,
            got: format!("{:?}", self.value),
        }
    }

    fn in_range(&self, x: f64) -> Result<(), ConfigError> {
        self.spec
            .range
            .map_or(Ok(()), |r| r.check(self.spec.name, x))
    }

    fn f64(&self) -> Result<f64, ConfigError> {
        let x = match self.value {
            Value::Double(x) => *x,
            Value::Integer(x) => *x as f64,
            _ => return Err(self.wrong("a number")),
        };
        self.in_range(x).map(|()| x)
    }

    fn i64(&self) -> Result<i64, ConfigError> {
        let Value::Integer(x) = self.value else {
            return Err(self.wrong("an integer"));
        };
        self.in_range(*x as f64).map(|()| *x)
    }

    fn bool(&self) -> Result<bool, ConfigError> {
        match self.value {
            Value::Bool(x) => Ok(*x),
            _ => Err(self.wrong("true or false")),
        }
    }

    fn string(&self) -> Result<String, ConfigError> {
        match self.value {
            Value::String(x) => Ok(x.clone()),
            _ => Err(self.wrong("a string")),
        }
    }

    /// The index of the value in `choices`.
    fn choice(&self, choices: &[&str]) -> Result<usize, ConfigError> {
        let s = self.string()?;
        choices
            .iter()
            .position(|c| *c == s)
            .ok_or_else(|| ConfigError::Invalid {
                name: self.spec.name,
                reason: format!("{s:?} is not {}", choices.join(" or ")),
            })
    }
}

/// One declared parameter.
pub struct Spec {
    pub name: &'static str,
    /// What it does, without its range or liveness (see [`Spec::description`]).
    summary: &'static str,
    pub range: Option<Range>,
    /// Takes effect at once when set while running (otherwise start-up only).
    pub live: bool,
    get: fn(&NodeParams) -> Value,
    set: fn(&mut NodeParams, Given) -> Result<(), ConfigError>,
}

/// Whether a parameter takes effect at once when set while running.
const LIVE: bool = true;
const START_UP: bool = false;

impl Spec {
    const fn new(
        name: &'static str,
        summary: &'static str,
        (range, live): (Option<Range>, bool),
        get: fn(&NodeParams) -> Value,
        set: fn(&mut NodeParams, Given) -> Result<(), ConfigError>,
    ) -> Spec {
        Spec {
            name,
            summary,
            range,
            live,
            get,
            set,
        }
    }

    /// The summary with the range and liveness, as `--help` and `ros2 param describe` show it.
    pub fn description(&'static self) -> &'static str {
        static TEXT: OnceLock<Vec<String>> = OnceLock::new();
        let all = TEXT.get_or_init(|| {
            SPECS
                .iter()
                .map(|s| {
                    let range = s.range.map(|r| format!(" Range {r}.")).unwrap_or_default();
                    let when = if s.live { "Live" } else { "Start-up only" };
                    format!("{}{range} {when}.", s.summary)
                })
                .collect()
        });
        let i = SPECS.iter().position(|s| std::ptr::eq(s, self));
        i.map_or(self.summary, |i| all[i].as_str())
    }

    pub fn get(&self, p: &NodeParams) -> Value {
        (self.get)(p)
    }

    /// Apply `value` to `p` (type and range checked; `p` as a whole is not validated here).
    pub fn set(&'static self, p: &mut NodeParams, value: &Value) -> Result<(), ConfigError> {
        (self.set)(p, Given { spec: self, value })
    }
}

/// The parameter named `name`.
pub fn spec(name: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.name == name)
}

/// An input size of 0 means the detector kind's own (RetinaFace 640x480, BlazeFace 128x128).
fn input_size(kind: DetectorKind, requested: i64, pick: fn(&DetectorConfig) -> u32) -> u32 {
    match u32::try_from(requested) {
        Ok(0) | Err(_) => pick(&DetectorConfig::for_kind(kind)),
        Ok(n) => n,
    }
}

const TRANSPORTS: [&str; 2] = ["raw", "compressed"];
const RELIABILITIES: [&str; 2] = ["best_effort", "reliable"];

/// Every parameter of the node, in the order `ros2 param list` shows them (and in which given
/// values are applied: detector.kind before the sizes that follow it).
pub static SPECS: &[Spec] = &[
    Spec::new(
        "image_topics",
        "Camera topics to subscribe to (sensor_msgs/Image; with input_transport compressed, <topic>/compressed). Several cameras in one node; face ids are per camera.",
        (None, START_UP),
        |p| Value::StringArray(p.image_topics.clone()),
        |p, v| {
            p.image_topics = match v.value {
                Value::StringArray(t) => t.clone(),
                Value::String(t) => vec![t.clone()],
                _ => return Err(v.wrong("a list of topic names")),
            };
            Ok(())
        },
    ),
    Spec::new(
        "input_transport",
        "raw (sensor_msgs/Image) or compressed (sensor_msgs/CompressedImage on <topic>/compressed, JPEG or PNG).",
        (None, START_UP),
        |p| Value::String(TRANSPORTS[(p.transport == Transport::Compressed) as usize].into()),
        |p, v| v.choice(&TRANSPORTS).map(|i| p.transport = [Transport::Raw, Transport::Compressed][i]),
    ),
    Spec::new(
        "qos.reliability",
        "Image subscription reliability: best_effort (default, accepts every camera) or reliable (only reliable publishers match).",
        (None, START_UP),
        |p| Value::String(RELIABILITIES[p.reliable as usize].into()),
        |p, v| v.choice(&RELIABILITIES).map(|i| p.reliable = i == 1),
    ),
    Spec::new(
        "qos.depth",
        "Image subscription queue depth (keep last). Only the newest frame is processed.",
        (Some(Range::Int(1, 1000)), START_UP),
        |p| Value::Integer(p.qos_depth as i64),
        |p, v| v.i64().map(|x| p.qos_depth = x as usize),
    ),
    Spec::new(
        "publish_debug_image",
        "Publish ~/debug_image (sensor_msgs/Image rgb8, boxes and expressions drawn).",
        (None, LIVE),
        |p| Value::Bool(p.publish_debug_image),
        |p, v| v.bool().map(|x| p.publish_debug_image = x),
    ),
    Spec::new(
        "hri.enabled",
        "Publish ROS4HRI topics (/humans/faces/tracked, /humans/faces/<id>/roi, /expression, /landmarks, /cropped and /aligned; face frames on /tf).",
        (None, LIVE),
        |p| Value::Bool(p.hri_enabled),
        |p, v| v.bool().map(|x| p.hri_enabled = x),
    ),
    Spec::new(
        "hri.cropped",
        "Publish /humans/faces/<id>/cropped (sensor_msgs/Image rgb8: the face's square box at hri.face_size; ~0.56 ms per face).",
        (None, LIVE),
        |p| Value::Bool(p.hri_cropped),
        |p, v| v.bool().map(|x| p.hri_cropped = x),
    ),
    Spec::new(
        "hri.aligned",
        "Publish /humans/faces/<id>/aligned (the cropped face turned so that the eyes are level; ~0.62 ms per face).",
        (None, LIVE),
        |p| Value::Bool(p.hri_aligned),
        |p, v| v.bool().map(|x| p.hri_aligned = x),
    ),
    Spec::new(
        "hri.face_size",
        "Side of the cropped and aligned face images, pixels.",
        (Some(Range::Int(16, 1024)), LIVE),
        |p| Value::Integer(i64::from(p.hri_face_size)),
        |p, v| v.i64().map(|x| p.hri_face_size = x as u32),
    ),
    Spec::new(
        "hri.landmarks",
        "Publish /humans/faces/<id>/landmarks (hri_msgs/FacialLandmarks: the detector's five points at their ROS4HRI indices, normalised).",
        (None, LIVE),
        |p| Value::Bool(p.hri_landmarks),
        |p, v| v.bool().map(|x| p.hri_landmarks = x),
    ),
    Spec::new(
        "hri.tf",
        "Publish face_<id> and gaze_<id> frames on /tf, placed from the camera's camera_info (the image topic's sibling, as image_transport pairs them) and hri.face_width; without camera_info, none (one warning says why).",
        (None, LIVE),
        |p| Value::Bool(p.hri_tf),
        |p, v| v.bool().map(|x| p.hri_tf = x),
    ),
    Spec::new(
        "hri.face_width",
        "Nominal face width, metres: a face's distance is where a face this wide fills its detected box.",
        (Some(Range::Float(0.05, 0.5)), LIVE),
        |p| Value::Double(p.hri_face_width),
        |p, v| v.f64().map(|x| p.hri_face_width = x),
    ),
    Spec::new(
        "diagnostics.period",
        "Seconds between /diagnostics messages.",
        (Some(Range::Float(0.1, 60.0)), LIVE),
        |p| Value::Double(p.diagnostics_period),
        |p, v| v.f64().map(|x| p.diagnostics_period = x),
    ),
    Spec::new(
        "diagnostics.min_rate",
        "Lowest acceptable input frame rate per camera (Hz); below it the input status is WARN, with no frames ERROR.",
        (Some(Range::Float(0.0, 10_000.0)), LIVE),
        |p| Value::Double(p.min_rate),
        |p, v| v.f64().map(|x| p.min_rate = x),
    ),
    Spec::new(
        "diagnostics.max_rate",
        "Highest acceptable input frame rate per camera (Hz); above it the input status is WARN.",
        (Some(Range::Float(0.0, 10_000.0)), LIVE),
        |p| Value::Double(p.max_rate),
        |p, v| v.f64().map(|x| p.max_rate = x),
    ),
    Spec::new(
        "autostart",
        "Configure and activate at start-up, as an unmanaged node (false: stay unconfigured until a lifecycle manager or `ros2 lifecycle set` configures and activates it).",
        (None, START_UP),
        |p| Value::Bool(p.autostart),
        |p, v| v.bool().map(|x| p.autostart = x),
    ),
    Spec::new(
        "use_sim_time",
        "Take time from /clock (simulation, bag replay with --clock) for diagnostics stamps and input rates, as every ROS 2 node.",
        (None, START_UP),
        |p| Value::Bool(p.use_sim_time),
        |p, v| v.bool().map(|x| p.use_sim_time = x),
    ),
    Spec::new(
        "threads",
        "ONNX Runtime intra-op threads per model.",
        (Some(PipelineConfig::THREADS), START_UP),
        |p| Value::Integer(p.pipeline.threads as i64),
        |p, v| v.i64().map(|x| p.pipeline.threads = x as usize),
    ),
    Spec::new(
        "models_dir",
        "Directory of the default models; empty: the package's share/masked_fer/models, then beside the executable, then the source tree.",
        (None, START_UP),
        |p| Value::String(p.pipeline.models_dir.display().to_string()),
        |p, v| v.string().map(|x| p.pipeline.models_dir = x.into()),
    ),
    Spec::new(
        "detector.kind",
        "Face detector: retinaface (default; finds small and masked faces) or blazeface (fast, close range only).",
        (None, START_UP),
        |p| Value::String(p.pipeline.detector.kind.name().into()),
        |p, v| {
            let kind: DetectorKind = v.string()?.parse()?;
            let d = &mut p.pipeline.detector;
            if kind != d.kind {
                // Sizes follow the kind unless set explicitly (the setter of the size runs after).
                d.input_width = input_size(kind, 0, |c| c.input_width);
                d.input_height = input_size(kind, 0, |c| c.input_height);
                d.kind = kind;
            }
            Ok(())
        },
    ),
    Spec::new(
        "detector.model",
        "Detector ONNX file; empty: the kind's default model.",
        (None, START_UP),
        |p| Value::String(p.pipeline.detector.model.display().to_string()),
        |p, v| v.string().map(|x| p.pipeline.detector.model = x.into()),
    ),
    Spec::new(
        "detector.input_width",
        "Detector network input width in pixels (frames are letterboxed into it); 0: the kind's default (RetinaFace 640, BlazeFace 128).",
        (Some(Range::Int(0, 4096)), START_UP),
        |p| Value::Integer(i64::from(p.pipeline.detector.input_width)),
        |p, v| {
            let d = &mut p.pipeline.detector;
            v.i64().map(|x| d.input_width = input_size(d.kind, x, |c| c.input_width))
        },
    ),
    Spec::new(
        "detector.input_height",
        "Detector network input height in pixels; 0: the kind's default (RetinaFace 480, BlazeFace 128).",
        (Some(Range::Int(0, 4096)), START_UP),
        |p| Value::Integer(i64::from(p.pipeline.detector.input_height)),
        |p, v| {
            let d = &mut p.pipeline.detector;
            v.i64().map(|x| d.input_height = input_size(d.kind, x, |c| c.input_height))
        },
    ),
    Spec::new(
        "detector.score_threshold",
        "Lowest face score kept (RetinaFace 0.6: 0.9 loses masked faces; BlazeFace 0.5).",
        (Some(DetectorConfig::SCORE_THRESHOLD), LIVE),
        |p| Value::Double(f64::from(p.pipeline.detector.score_threshold)),
        |p, v| v.f64().map(|x| p.pipeline.detector.score_threshold = x as f32),
    ),
    Spec::new(
        "detector.nms_iou",
        "Overlap (IoU) above which duplicate boxes are merged.",
        (Some(DetectorConfig::NMS_IOU), LIVE),
        |p| Value::Double(f64::from(p.pipeline.detector.nms_iou)),
        |p, v| v.f64().map(|x| p.pipeline.detector.nms_iou = x as f32),
    ),
    Spec::new(
        "detector.min_face_size",
        "Smallest face box width kept, in image pixels.",
        (Some(DetectorConfig::MIN_FACE_SIZE), LIVE),
        |p| Value::Double(f64::from(p.pipeline.detector.min_face_size)),
        |p, v| v.f64().map(|x| p.pipeline.detector.min_face_size = x as f32),
    ),
    Spec::new(
        "detector.max_faces",
        "Most faces per frame (highest scores first).",
        (Some(DetectorConfig::MAX_FACES), LIVE),
        |p| Value::Integer(p.pipeline.detector.max_faces as i64),
        |p, v| v.i64().map(|x| p.pipeline.detector.max_faces = x as usize),
    ),
    Spec::new(
        "detector.keyframe_interval",
        "Run the full-frame detector every N-th frame of a camera (and at once when a followed face is lost); in between, detect only in a region around each face of the previous frame. 1: every frame.",
        (Some(DetectorConfig::KEYFRAME_INTERVAL), LIVE),
        |p| Value::Integer(i64::from(p.pipeline.detector.keyframe_interval)),
        |p, v| v.i64().map(|x| p.pipeline.detector.keyframe_interval = x as u32),
    ),
    Spec::new(
        "detector.region_size",
        "Network input side, pixels, for the regions between keyframes (blazeface: 128 only).",
        (Some(DetectorConfig::REGION_SIZE), START_UP),
        |p| Value::Integer(i64::from(p.pipeline.detector.region_size)),
        |p, v| v.i64().map(|x| p.pipeline.detector.region_size = x as u32),
    ),
    Spec::new(
        "detector.region_margin",
        "A region between keyframes is the face's box widened by this fraction of its longer side on every side.",
        (Some(DetectorConfig::REGION_MARGIN), LIVE),
        |p| Value::Double(f64::from(p.pipeline.detector.region_margin)),
        |p, v| v.f64().map(|x| p.pipeline.detector.region_margin = x as f32),
    ),
    Spec::new(
        "classifier.enabled",
        "Classify expressions (false: detection and tracking only).",
        (None, START_UP),
        |p| Value::Bool(p.pipeline.classifier.enabled),
        |p, v| v.bool().map(|x| p.pipeline.classifier.enabled = x),
    ),
    Spec::new(
        "classifier.model",
        "Expression ONNX model with the masked_fer metadata contract; empty: slim_rgc_masked_fer_int8.onnx (slim_rgc_masked_fer.onnx: the float original).",
        (None, START_UP),
        |p| Value::String(p.pipeline.classifier.model.display().to_string()),
        |p, v| v.string().map(|x| p.pipeline.classifier.model = x.into()),
    ),
    Spec::new(
        "classifier.flip_average",
        "Also classify each face mirrored left-right and average the two (+1.3 points clean, +0.4 on mask families in validation accuracy with the default model; one more classification per face).",
        (None, START_UP),
        |p| Value::Bool(p.pipeline.classifier.flip_average),
        |p, v| v.bool().map(|x| p.pipeline.classifier.flip_average = x),
    ),
    Spec::new(
        "classifier.smoothing",
        "Per-track exponential smoothing of expression probabilities, 0 = off: p = s*p_prev + (1-s)*p_new.",
        (Some(TrackerConfig::SMOOTHING), LIVE),
        |p| Value::Double(f64::from(p.tracker.smoothing)),
        |p, v| v.f64().map(|x| p.tracker.smoothing = x as f32),
    ),
    Spec::new(
        "tracker.min_iou",
        "Overlap (IoU) needed to continue a face's track.",
        (Some(TrackerConfig::MIN_IOU), LIVE),
        |p| Value::Double(f64::from(p.tracker.min_iou)),
        |p, v| v.f64().map(|x| p.tracker.min_iou = x as f32),
    ),
    Spec::new(
        "tracker.confirm_after",
        "Consecutive detections before a face id is published (as hri_face_detect).",
        (Some(TrackerConfig::CONFIRM_AFTER), LIVE),
        |p| Value::Integer(i64::from(p.tracker.confirm_after)),
        |p, v| v.i64().map(|x| p.tracker.confirm_after = x as u32),
    ),
    Spec::new(
        "tracker.retire_after",
        "Consecutive frames without the face before its id is retired.",
        (Some(TrackerConfig::RETIRE_AFTER), LIVE),
        |p| Value::Integer(i64::from(p.tracker.retire_after)),
        |p, v| v.i64().map(|x| p.tracker.retire_after = x as u32),
    ),
];

impl NodeParams {
    /// Checks that involve more than one parameter, and the pipeline's and tracker's own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.image_topics.is_empty() {
            return Err(ConfigError::Invalid {
                name: "image_topics",
                reason: "empty: name at least one camera topic".into(),
            });
        }
        if self.min_rate > self.max_rate {
            return Err(ConfigError::Invalid {
                name: "diagnostics.min_rate",
                reason: format!(
                    "{} is above diagnostics.max_rate {}",
                    self.min_rate, self.max_rate
                ),
            });
        }
        self.pipeline.validate()?;
        self.tracker.validate()
    }

    /// The defaults with the given values applied in declaration order (`take` hands over the
    /// value given for a name, if any), then validated as a whole.
    pub fn from_given(
        mut take: impl FnMut(&str) -> Option<Value>,
    ) -> Result<NodeParams, ConfigError> {
        let mut p = NodeParams::default();
        for s in SPECS {
            if let Some(v) = take(s.name) {
                s.set(&mut p, &v)?;
            }
        }
        p.validate()?;
        Ok(p)
    }

    /// The settings of a ROS 2 parameters file, read as the node reads it: the section of `node`
    /// (or `/**`, or the first node), defaults for what it leaves out; a name the table does not
    /// know is an error.
    pub fn from_file(path: &Path, node: Option<&str>) -> Result<NodeParams, ConfigError> {
        let mut given = file_values(path, node)?;
        let p = Self::from_given(|name| {
            let i = given.iter().position(|(n, _)| n == name)?;
            Some(given.swap_remove(i).1)
        })?;
        match given.into_iter().next() {
            Some((name, _)) => Err(ConfigError::Unknown { name }),
            None => Ok(p),
        }
    }
}

/// The dotted names and values of a ROS 2 parameters file's `ros__parameters` section.
pub fn file_values(path: &Path, node: Option<&str>) -> Result<Vec<(String, Value)>, ConfigError> {
    let parse = |reason: String| ConfigError::Parse {
        path: path.into(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| parse(e.to_string()))?;
    let nodes = doc
        .as_mapping()
        .ok_or_else(|| parse("top level is not a mapping of node names".into()))?;
    let section = nodes
        .iter()
        .find(|(k, _)| node.is_none_or(|n| k.as_str() == Some(n) || k.as_str() == Some("/**")))
        .and_then(|(_, v)| v.get("ros__parameters"))
        .ok_or_else(|| {
            parse(format!(
                "no `{}: ros__parameters:` section",
                node.unwrap_or("<node>")
            ))
        })?;
    let mut out = Vec::new();
    flatten(path, "", section, &mut out)?;
    Ok(out)
}

/// Nested mappings to dotted names; scalars and string lists typed as rcl types them.
fn flatten(
    path: &Path,
    prefix: &str,
    v: &serde_yaml_ng::Value,
    out: &mut Vec<(String, Value)>,
) -> Result<(), ConfigError> {
    use serde_yaml_ng::Value as Y;
    let unreadable = |reason: String| ConfigError::Parse {
        path: path.into(),
        reason,
    };
    let value = match v {
        Y::Mapping(m) => {
            for (k, v) in m {
                let k = k
                    .as_str()
                    .ok_or_else(|| unreadable(format!("{k:?} is not a name")))?;
                let name = if prefix.is_empty() {
                    k.to_string()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(path, &name, v, out)?;
            }
            return Ok(());
        }
        Y::Bool(b) => Value::Bool(*b),
        Y::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Double(n.as_f64().unwrap_or(f64::NAN)),
        },
        Y::String(s) => Value::String(s.clone()),
        Y::Sequence(l) => Value::StringArray(
            l.iter()
                .map(|x| x.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    unreadable(format!("{prefix}: only lists of strings are supported"))
                })?,
        ),
        other => return Err(unreadable(format!("{prefix}: unsupported value {other:?}"))),
    };
    out.push((prefix.to_string(), value));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn camera_info_sits_beside_the_image_topic() {
        assert_eq!(
            camera_info_topic("/camera/image_raw"),
            "/camera/camera_info"
        );
        assert_eq!(
            camera_info_topic("/robot/head/rgb/image_raw/"),
            "/robot/head/rgb/camera_info"
        );
        assert_eq!(camera_info_topic("/cam_a"), "/camera_info");
        assert_eq!(camera_info_topic("image"), "camera_info");
    }

    #[test]
    fn shipped_params_file_names_every_parameter_with_its_default() {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/params/default.yaml"));
        let names: Vec<String> = file_values(path, Some("masked_fer"))
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let declared: Vec<&str> = SPECS.iter().map(|s| s.name).collect();
        assert_eq!(
            names, declared,
            "params/default.yaml: every parameter, in table order"
        );
        assert_eq!(
            NodeParams::from_file(path, None).unwrap(),
            NodeParams::default()
        );
        // Each range and liveness appears in the file's comment on that parameter.
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines = text.lines();
        for s in SPECS {
            let leaf = s.name.rsplit('.').next().unwrap();
            let line = lines
                .find(|l| l.trim_start().starts_with(&format!("{leaf}:")))
                .unwrap();
            assert_eq!(line.contains("# live"), s.live, "{line}");
            if let Some(r) = s.range {
                assert!(line.contains(&format!("({r})")), "{line} lacks ({r})");
            }
        }
    }

    #[test]
    fn a_file_is_read_as_the_node_reads_it() {
        let f = write("masked_fer:\n  ros__parameters:\n    image_topics: [/a, /b]\n    threads: 2\n    detector:\n      kind: blazeface\n      score_threshold: 1\n    classifier:\n      smoothing: 0.8\n    tracker:\n      confirm_after: 3\n");
        let p = NodeParams::from_file(f.path(), Some("masked_fer")).unwrap();
        assert_eq!(p.image_topics, ["/a", "/b"]);
        assert_eq!(p.pipeline.threads, 2);
        let d = &p.pipeline.detector;
        assert_eq!(
            (d.kind, d.input_width, d.input_height),
            (DetectorKind::Blazeface, 128, 128)
        );
        assert_eq!(d.score_threshold, 1.0);
        assert_eq!(d.max_faces, DetectorConfig::default().max_faces);
        assert_eq!(
            (
                p.tracker.smoothing,
                p.tracker.confirm_after,
                p.tracker.retire_after
            ),
            (0.8, 3, TrackerConfig::default().retire_after)
        );
    }

    #[test]
    fn bad_files_and_values_name_the_problem() {
        let problem = |text: &str| {
            let f = write(text);
            NodeParams::from_file(f.path(), Some("masked_fer"))
                .unwrap_err()
                .to_string()
        };
        let e =
            problem("masked_fer:\n  ros__parameters:\n    detector:\n      score_treshold: 0.5\n");
        assert!(e.contains("detector.score_treshold"), "{e}");
        let e = problem("masked_fer:\n  ros__parameters:\n    detector:\n      nms_iou: 3.0\n");
        assert!(
            e.contains("detector.nms_iou") && e.contains("outside [0, 1]"),
            "{e}"
        );
        let e = problem("/**:\n  ros__parameters:\n    classifier:\n      smoothing: 0.995\n");
        assert!(e.contains("classifier.smoothing"), "{e}");
        let e = problem("/**:\n  ros__parameters:\n    input_transport: h264\n");
        assert!(
            e.contains("input_transport") && e.contains("raw or compressed"),
            "{e}"
        );
        let e = problem("/**:\n  ros__parameters:\n    threads: two\n");
        assert!(e.contains("expected an integer"), "{e}");
        let e = problem("/**:\n  ros__parameters:\n    diagnostics:\n      min_rate: 500.0\n");
        assert!(e.contains("max_rate"), "{e}");
        let e = problem("someone_else:\n  ros__parameters: {}\n");
        assert!(e.contains("masked_fer"), "{e}");
        let e = NodeParams::from_file(Path::new("/nonexistent.yaml"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent.yaml"), "{e}");
    }

    #[test]
    fn descriptions_carry_range_and_liveness() {
        let s = spec("detector.score_threshold").unwrap();
        assert!(
            s.description().ends_with("Range 0..1. Live."),
            "{}",
            s.description()
        );
        let s = spec("detector.kind").unwrap();
        assert!(s.description().ends_with("Start-up only."));
        assert!(SPECS.iter().all(|s| !s.description().is_empty()));
    }
}
