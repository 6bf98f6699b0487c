//! Every setting of the node as a declared ROS parameter: name, description (with its range),
//! whether it can change while running, and how it is read and validated.
//!
//! Values come from rcl (`-p`, `--params-file`, launch files) at start-up and from
//! `ros2 param set` / the SetParameters service while running. A value is refused with a reason
//! when it has the wrong type, is out of range, or belongs to a start-up-only parameter.

use r2r::indexmap::IndexMap;
use r2r::{Parameter, ParameterValue, RosParams};

use crate::config::PipelineConfig;
use crate::detect::{DetectorConfig, DetectorKind};
use crate::track::TrackerConfig;

/// How images arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// sensor_msgs/Image on each topic.
    Raw,
    /// sensor_msgs/CompressedImage on `<topic>/compressed`.
    Compressed,
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
    pub diagnostics_period: f64,
    pub min_rate: f64,
    pub max_rate: f64,
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
            diagnostics_period: 1.0,
            min_rate: 5.0,
            max_rate: 100.0,
            pipeline: PipelineConfig::default(),
            tracker: TrackerConfig::default(),
        }
    }
}

impl NodeParams {
    /// Checks that involve more than one parameter, and the pipeline's own validation.
    pub fn validate(&self) -> Result<(), String> {
        if self.image_topics.is_empty() {
            return Err("image_topics is empty: name at least one camera topic".into());
        }
        if self.min_rate > self.max_rate {
            return Err(format!(
                "diagnostics.min_rate {} is above diagnostics.max_rate {}",
                self.min_rate, self.max_rate
            ));
        }
        self.pipeline.validate().map_err(|e| e.to_string())?;
        self.tracker.validate()
    }
}

type Getter = fn(&NodeParams) -> ParameterValue;
type Setter = fn(&mut NodeParams, &ParameterValue) -> Result<(), String>;

/// One declared parameter.
pub struct Spec {
    pub name: &'static str,
    pub description: &'static str,
    /// Takes effect at once when set while running (otherwise start-up only).
    pub live: bool,
    get: Getter,
    set: Setter,
}

fn as_f64(v: &ParameterValue) -> Result<f64, String> {
    match v {
        ParameterValue::Double(x) => Ok(*x),
        ParameterValue::Integer(x) => Ok(*x as f64),
        other => Err(format!("expected a number, got {other:?}")),
    }
}

fn as_i64(v: &ParameterValue) -> Result<i64, String> {
    match v {
        ParameterValue::Integer(x) => Ok(*x),
        other => Err(format!("expected an integer, got {other:?}")),
    }
}

fn as_bool(v: &ParameterValue) -> Result<bool, String> {
    match v {
        ParameterValue::Bool(x) => Ok(*x),
        other => Err(format!("expected true or false, got {other:?}")),
    }
}

fn as_string(v: &ParameterValue) -> Result<String, String> {
    match v {
        ParameterValue::String(x) => Ok(x.clone()),
        other => Err(format!("expected a string, got {other:?}")),
    }
}

fn within(x: f64, lo: f64, hi: f64) -> Result<f64, String> {
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{x} is outside [{lo}, {hi}]"))
    }
}

fn int_within(v: &ParameterValue, lo: i64, hi: i64) -> Result<i64, String> {
    let x = as_i64(v)?;
    if (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(format!("{x} is outside [{lo}, {hi}]"))
    }
}

fn within_range(x: f64, (lo, hi): (f32, f32)) -> Result<f64, String> {
    // Via the shortest decimal text: 0.99f32 is 0.99, not 0.9900000095...
    let wide = |v: f32| v.to_string().parse().unwrap_or(f64::from(v));
    within(x, wide(lo), wide(hi))
}

fn int_within_range(v: &ParameterValue, (lo, hi): (u32, u32)) -> Result<i64, String> {
    int_within(v, i64::from(lo), i64::from(hi))
}

/// An input size of 0 means the detector kind's own (RetinaFace 640x480, BlazeFace 128x128).
fn input_size(kind: DetectorKind, requested: u32, pick: fn(&DetectorConfig) -> u32) -> u32 {
    if requested == 0 {
        pick(&DetectorConfig::for_kind(kind))
    } else {
        requested
    }
}

/// Every parameter of the node, in the order `ros2 param list` shows them.
pub static SPECS: &[Spec] = &[
    Spec {
        name: "image_topics",
        description: "Camera topics to subscribe to (sensor_msgs/Image; with input_transport compressed, <topic>/compressed). Several cameras in one node; face ids are per camera. Start-up only.",
        live: false,
        get: |p| ParameterValue::StringArray(p.image_topics.clone()),
        set: |p, v| {
            match v {
                ParameterValue::StringArray(t) => p.image_topics = t.clone(),
                ParameterValue::String(t) => p.image_topics = vec![t.clone()],
                other => return Err(format!("expected a list of topic names, got {other:?}")),
            }
            Ok(())
        },
    },
    Spec {
        name: "input_transport",
        description: "raw (sensor_msgs/Image) or compressed (sensor_msgs/CompressedImage on <topic>/compressed, JPEG or PNG). Start-up only.",
        live: false,
        get: |p| {
            ParameterValue::String(
                match p.transport {
                    Transport::Raw => "raw",
                    Transport::Compressed => "compressed",
                }
                .into(),
            )
        },
        set: |p, v| {
            p.transport = match as_string(v)?.as_str() {
                "raw" => Transport::Raw,
                "compressed" => Transport::Compressed,
                other => return Err(format!("{other:?} is not raw or compressed")),
            };
            Ok(())
        },
    },
    Spec {
        name: "qos.reliability",
        description: "Image subscription reliability: best_effort (default, accepts every camera) or reliable (only reliable publishers match). Start-up only.",
        live: false,
        get: |p| {
            ParameterValue::String(if p.reliable { "reliable" } else { "best_effort" }.into())
        },
        set: |p, v| {
            p.reliable = match as_string(v)?.as_str() {
                "best_effort" => false,
                "reliable" => true,
                other => return Err(format!("{other:?} is not best_effort or reliable")),
            };
            Ok(())
        },
    },
    Spec {
        name: "qos.depth",
        description: "Image subscription queue depth (keep last), 1..1000. Only the newest frame is processed. Start-up only.",
        live: false,
        get: |p| ParameterValue::Integer(p.qos_depth as i64),
        set: |p, v| {
            p.qos_depth = int_within(v, 1, 1000)? as usize;
            Ok(())
        },
    },
    Spec {
        name: "publish_debug_image",
        description: "Publish ~/debug_image (sensor_msgs/Image rgb8, boxes and expressions drawn). Live.",
        live: true,
        get: |p| ParameterValue::Bool(p.publish_debug_image),
        set: |p, v| {
            p.publish_debug_image = as_bool(v)?;
            Ok(())
        },
    },
    Spec {
        name: "hri.enabled",
        description: "Publish ROS4HRI topics (/humans/faces/tracked, /humans/faces/<id>/roi and /expression). Live.",
        live: true,
        get: |p| ParameterValue::Bool(p.hri_enabled),
        set: |p, v| {
            p.hri_enabled = as_bool(v)?;
            Ok(())
        },
    },
    Spec {
        name: "diagnostics.period",
        description: "Seconds between /diagnostics messages, 0.1..60. Live.",
        live: true,
        get: |p| ParameterValue::Double(p.diagnostics_period),
        set: |p, v| {
            p.diagnostics_period = within(as_f64(v)?, 0.1, 60.0)?;
            Ok(())
        },
    },
    Spec {
        name: "diagnostics.min_rate",
        description: "Lowest acceptable input frame rate per camera (Hz, >= 0); below it the input status is WARN, with no frames ERROR. Live.",
        live: true,
        get: |p| ParameterValue::Double(p.min_rate),
        set: |p, v| {
            p.min_rate = within(as_f64(v)?, 0.0, 10_000.0)?;
            Ok(())
        },
    },
    Spec {
        name: "diagnostics.max_rate",
        description: "Highest acceptable input frame rate per camera (Hz); above it the input status is WARN. Live.",
        live: true,
        get: |p| ParameterValue::Double(p.max_rate),
        set: |p, v| {
            p.max_rate = within(as_f64(v)?, 0.0, 10_000.0)?;
            Ok(())
        },
    },
    Spec {
        name: "threads",
        description: "ONNX Runtime intra-op threads per model, 1..64. Start-up only.",
        live: false,
        get: |p| ParameterValue::Integer(p.pipeline.threads as i64),
        set: |p, v| {
            p.pipeline.threads = int_within(v, 1, 64)? as usize;
            Ok(())
        },
    },
    Spec {
        name: "models_dir",
        description: "Directory of the default models; empty: the package's share/masked_fer/models, then beside the executable, then the source tree. Start-up only.",
        live: false,
        get: |p| ParameterValue::String(p.pipeline.models_dir.display().to_string()),
        set: |p, v| {
            p.pipeline.models_dir = as_string(v)?.into();
            Ok(())
        },
    },
    Spec {
        name: "detector.kind",
        description: "Face detector: retinaface (default; finds small and masked faces) or blazeface (fast, close range only). Start-up only.",
        live: false,
        get: |p| ParameterValue::String(p.pipeline.detector.kind.name().into()),
        set: |p, v| {
            let kind: DetectorKind = as_string(v)?.parse()?;
            let d = &mut p.pipeline.detector;
            if kind != d.kind {
                // Sizes follow the kind unless set explicitly (the setter of the size runs after).
                d.input_width = input_size(kind, 0, |c| c.input_width);
                d.input_height = input_size(kind, 0, |c| c.input_height);
                d.kind = kind;
            }
            Ok(())
        },
    },
    Spec {
        name: "detector.model",
        description: "Detector ONNX file; empty: the kind's default model. Start-up only.",
        live: false,
        get: |p| ParameterValue::String(p.pipeline.detector.model.display().to_string()),
        set: |p, v| {
            p.pipeline.detector.model = as_string(v)?.into();
            Ok(())
        },
    },
    Spec {
        name: "detector.input_width",
        description: "Detector network input width in pixels (frames are letterboxed into it); 0: the kind's default (RetinaFace 640, BlazeFace 128). Start-up only.",
        live: false,
        get: |p| ParameterValue::Integer(i64::from(p.pipeline.detector.input_width)),
        set: |p, v| {
            let d = &mut p.pipeline.detector;
            d.input_width = input_size(d.kind, int_within(v, 0, 4096)? as u32, |c| c.input_width);
            Ok(())
        },
    },
    Spec {
        name: "detector.input_height",
        description: "Detector network input height in pixels; 0: the kind's default (RetinaFace 480, BlazeFace 128). Start-up only.",
        live: false,
        get: |p| ParameterValue::Integer(i64::from(p.pipeline.detector.input_height)),
        set: |p, v| {
            let d = &mut p.pipeline.detector;
            d.input_height =
                input_size(d.kind, int_within(v, 0, 4096)? as u32, |c| c.input_height);
            Ok(())
        },
    },
    Spec {
        name: "detector.score_threshold",
        description: "Lowest face score kept, 0..1 (RetinaFace 0.6: 0.9 loses masked faces; BlazeFace 0.5). Live.",
        live: true,
        get: |p| ParameterValue::Double(f64::from(p.pipeline.detector.score_threshold)),
        set: |p, v| {
            p.pipeline.detector.score_threshold = within(as_f64(v)?, 0.0, 1.0)? as f32;
            Ok(())
        },
    },
    Spec {
        name: "detector.nms_iou",
        description: "Overlap (IoU) above which duplicate boxes are merged, 0..1. Live.",
        live: true,
        get: |p| ParameterValue::Double(f64::from(p.pipeline.detector.nms_iou)),
        set: |p, v| {
            p.pipeline.detector.nms_iou = within(as_f64(v)?, 0.0, 1.0)? as f32;
            Ok(())
        },
    },
    Spec {
        name: "detector.min_face_size",
        description: "Smallest face box width kept, in image pixels, >= 0. Live.",
        live: true,
        get: |p| ParameterValue::Double(f64::from(p.pipeline.detector.min_face_size)),
        set: |p, v| {
            p.pipeline.detector.min_face_size = within(as_f64(v)?, 0.0, 16_384.0)? as f32;
            Ok(())
        },
    },
    Spec {
        name: "detector.max_faces",
        description: "Most faces per frame (highest scores first), 1..1000. Live.",
        live: true,
        get: |p| ParameterValue::Integer(p.pipeline.detector.max_faces as i64),
        set: |p, v| {
            p.pipeline.detector.max_faces = int_within(v, 1, 1000)? as usize;
            Ok(())
        },
    },
    Spec {
        name: "classifier.enabled",
        description: "Classify expressions (false: detection and tracking only). Start-up only.",
        live: false,
        get: |p| ParameterValue::Bool(p.pipeline.classifier.enabled),
        set: |p, v| {
            p.pipeline.classifier.enabled = as_bool(v)?;
            Ok(())
        },
    },
    Spec {
        name: "classifier.model",
        description: "Expression ONNX model with the masked_fer metadata contract; empty: slim_rgc_masked_fer_int8.onnx (slim_rgc_masked_fer.onnx: the float original). Start-up only.",
        live: false,
        get: |p| ParameterValue::String(p.pipeline.classifier.model.display().to_string()),
        set: |p, v| {
            p.pipeline.classifier.model = as_string(v)?.into();
            Ok(())
        },
    },
    Spec {
        name: "classifier.flip_average",
        description: "Also classify each face mirrored left-right and average the two (+1.5 points masked, +1.4 clean validation accuracy with the default model; one more classification per face). Start-up only.",
        live: false,
        get: |p| ParameterValue::Bool(p.pipeline.classifier.flip_average),
        set: |p, v| {
            p.pipeline.classifier.flip_average = as_bool(v)?;
            Ok(())
        },
    },
    Spec {
        name: "classifier.smoothing",
        description: "Per-track exponential smoothing of expression probabilities, 0 (off) ..0.99: p = s*p_prev + (1-s)*p_new. Live.",
        live: true,
        get: |p| ParameterValue::Double(f64::from(p.tracker.smoothing)),
        set: |p, v| {
            p.tracker.smoothing = within_range(as_f64(v)?, TrackerConfig::SMOOTHING)? as f32;
            Ok(())
        },
    },
    Spec {
        name: "tracker.min_iou",
        description: "Overlap (IoU) needed to continue a face's track, 0..0.99. Live.",
        live: true,
        get: |p| ParameterValue::Double(f64::from(p.tracker.min_iou)),
        set: |p, v| {
            p.tracker.min_iou = within_range(as_f64(v)?, TrackerConfig::MIN_IOU)? as f32;
            Ok(())
        },
    },
    Spec {
        name: "tracker.confirm_after",
        description: "Consecutive detections before a face id is published (as hri_face_detect), 1..100. Live.",
        live: true,
        get: |p| ParameterValue::Integer(i64::from(p.tracker.confirm_after)),
        set: |p, v| {
            p.tracker.confirm_after = int_within_range(v, TrackerConfig::CONFIRM_AFTER)? as u32;
            Ok(())
        },
    },
    Spec {
        name: "tracker.retire_after",
        description: "Consecutive frames without the face before its id is retired, 1..1000. Live.",
        live: true,
        get: |p| ParameterValue::Integer(i64::from(p.tracker.retire_after)),
        set: |p, v| {
            p.tracker.retire_after = int_within_range(v, TrackerConfig::RETIRE_AFTER)? as u32;
            Ok(())
        },
    },
];

fn spec(name: &str) -> r2r::Result<&'static Spec> {
    SPECS
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| r2r::Error::InvalidParameterName {
            name: name.to_string(),
        })
}

fn refused(name: &str, msg: String) -> r2r::Error {
    r2r::Error::ParameterValueConv {
        name: name.to_string(),
        msg,
    }
}

/// The parameters as r2r's parameter services see them. `generation` counts accepted changes,
/// so the processing thread applies them without polling every value.
#[derive(Debug, Default)]
pub struct ParamStore {
    pub params: NodeParams,
    pub generation: u64,
    running: bool,
}

impl ParamStore {
    /// From now on, start-up-only parameters refuse changes.
    pub fn mark_running(&mut self) {
        self.running = true;
    }

    /// `params` with `value` applied to `name`, validated as a whole.
    fn with(&self, name: &str, value: &ParameterValue) -> r2r::Result<NodeParams> {
        let s = spec(name)?;
        if self.running && !s.live {
            return Err(refused(
                name,
                "start-up only: set it with -p, --params-file or a launch file and restart the node"
                    .into(),
            ));
        }
        let mut next = self.params.clone();
        (s.set)(&mut next, value).map_err(|m| refused(name, m))?;
        next.validate().map_err(|m| refused(name, m))?;
        Ok(next)
    }
}

impl RosParams for ParamStore {
    /// Apply the start-up values rcl parsed (command line, params files), in declaration order
    /// (so detector.kind comes before the sizes), then declare every parameter.
    fn register_parameters(
        &mut self,
        _prefix: &str,
        _param: Option<Parameter>,
        params: &mut IndexMap<String, Parameter>,
    ) -> r2r::Result<()> {
        for s in SPECS {
            if let Some(given) = params.shift_remove(s.name) {
                (s.set)(&mut self.params, &given.value).map_err(|m| refused(s.name, m))?;
            }
        }
        self.params
            .validate()
            .map_err(|m| refused("(start-up)", m))?;
        for s in SPECS {
            params.insert(
                s.name.to_string(),
                Parameter {
                    value: (s.get)(&self.params),
                    description: s.description,
                },
            );
        }
        Ok(())
    }

    fn get_parameter(&mut self, name: &str) -> r2r::Result<ParameterValue> {
        Ok((spec(name)?.get)(&self.params))
    }

    fn set_parameter(&mut self, name: &str, value: &ParameterValue) -> r2r::Result<()> {
        self.params = self.with(name, value)?;
        self.generation += 1;
        Ok(())
    }

    fn check_parameter(&self, name: &str, value: &ParameterValue) -> r2r::Result<()> {
        self.with(name, value).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(pairs: &[(&str, ParameterValue)]) -> IndexMap<String, Parameter> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Parameter::new(v.clone())))
            .collect()
    }

    #[test]
    fn start_up_values_are_applied_and_every_parameter_is_declared() {
        let mut store = ParamStore::default();
        let mut given = cli(&[
            ("detector.kind", ParameterValue::String("blazeface".into())),
            (
                "image_topics",
                ParameterValue::StringArray(vec!["/a".into(), "/b".into()]),
            ),
            ("qos.reliability", ParameterValue::String("reliable".into())),
            ("detector.score_threshold", ParameterValue::Integer(1)),
        ]);
        store.register_parameters("", None, &mut given).unwrap();
        let p = &store.params;
        assert_eq!(p.image_topics, ["/a", "/b"]);
        assert!(p.reliable);
        assert_eq!(
            (
                p.pipeline.detector.input_width,
                p.pipeline.detector.input_height
            ),
            (128, 128)
        );
        assert_eq!(p.pipeline.detector.score_threshold, 1.0);
        assert_eq!(given.len(), SPECS.len());
        assert!(given.values().all(|v| !v.description.is_empty()));
    }

    /// YAML scalars and lists as rcl would parse them.
    fn value(v: &serde_yaml_ng::Value) -> ParameterValue {
        use serde_yaml_ng::Value as Y;
        match v {
            Y::Bool(b) => ParameterValue::Bool(*b),
            Y::Number(n) if n.is_i64() => ParameterValue::Integer(n.as_i64().unwrap()),
            Y::Number(n) => ParameterValue::Double(n.as_f64().unwrap()),
            Y::String(s) => ParameterValue::String(s.clone()),
            Y::Sequence(l) => ParameterValue::StringArray(
                l.iter().map(|x| x.as_str().unwrap().to_string()).collect(),
            ),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn flatten(prefix: &str, v: &serde_yaml_ng::Value, out: &mut IndexMap<String, Parameter>) {
        match v.as_mapping() {
            Some(m) => {
                for (k, v) in m {
                    let k = k.as_str().unwrap();
                    let name = if prefix.is_empty() {
                        k.to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten(&name, v, out);
                }
            }
            None => {
                out.insert(prefix.to_string(), Parameter::new(value(v)));
            }
        }
    }

    #[test]
    fn shipped_params_file_names_every_parameter_with_its_default() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/params/default.yaml");
        let doc: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut given = IndexMap::new();
        flatten("", &doc["/**"]["ros__parameters"], &mut given);
        let names: Vec<&str> = given.keys().map(String::as_str).collect();
        for s in SPECS {
            assert!(names.contains(&s.name), "{} missing from {path}", s.name);
        }
        assert_eq!(given.len(), SPECS.len(), "{names:?}");
        let mut store = ParamStore::default();
        store.register_parameters("", None, &mut given).unwrap();
        assert_eq!(store.params, NodeParams::default());
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let mut store = ParamStore::default();
        let mut given = cli(&[("detector.nms_iou", ParameterValue::Double(3.0))]);
        let e = store
            .register_parameters("", None, &mut given)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("detector.nms_iou") && e.contains("outside"),
            "{e}"
        );

        let mut store = ParamStore::default();
        store.register_parameters("", None, &mut cli(&[])).unwrap();
        store.mark_running();
        let e = store
            .set_parameter("detector.kind", &ParameterValue::String("blazeface".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("start-up only"), "{e}");
        assert!(store
            .set_parameter("classifier.smoothing", &ParameterValue::Bool(true))
            .is_err());
        assert!(store
            .set_parameter("diagnostics.min_rate", &ParameterValue::Double(500.0))
            .unwrap_err()
            .to_string()
            .contains("max_rate"));
        assert!(store
            .set_parameter("no.such", &ParameterValue::Bool(true))
            .is_err());
        assert_eq!(store.generation, 0);
        store
            .set_parameter("detector.score_threshold", &ParameterValue::Double(0.8))
            .unwrap();
        assert_eq!(store.params.pipeline.detector.score_threshold, 0.8);
        assert_eq!(store.generation, 1);
    }
}
