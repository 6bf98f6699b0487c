//! Typed settings of the pipeline: defaults, validation, and loading from a ROS 2 params YAML
//! (`<node>: ros__parameters: {...}`), so the CLI, replay and node read the same file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::detect::DetectorConfig;
use crate::track::TrackerConfig;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("invalid parameter {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    /// Expression model (ONNX with the masked_fer metadata contract); empty = the default model.
    pub model: PathBuf,
    /// Classify faces at all (off = detection only).
    pub enabled: bool,
    /// Also classify each face's mirror image and average the two (one more classification per
    /// face; see [`crate::classify::Classifier::with_flip_average`]).
    pub flip_average: bool,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            model: PathBuf::new(),
            enabled: true,
            flip_average: false,
        }
    }
}

/// Everything a [`crate::pipeline::Pipeline`] needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    pub detector: DetectorConfig,
    pub classifier: ClassifierConfig,
    /// ONNX Runtime intra-op threads per model.
    pub threads: usize,
    /// Directory holding the default models; empty = search (see [`crate::models`]).
    pub models_dir: PathBuf,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            detector: DetectorConfig::default(),
            classifier: ClassifierConfig::default(),
            threads: 1,
            models_dir: PathBuf::new(),
        }
    }
}

impl PipelineConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.detector
            .validate()
            .map_err(|reason| ConfigError::Invalid {
                name: "detector",
                reason,
            })?;
        if !(1..=64).contains(&self.threads) {
            return Err(ConfigError::Invalid {
                name: "threads",
                reason: format!("{} is not within 1..64", self.threads),
            });
        }
        Ok(())
    }

    /// Read the pipeline's settings from a ROS 2 parameters file ([`ros_parameters`]).
    /// Keys this pipeline does not know are an error, naming the key; node-only settings
    /// (topics, QoS, tracking, ...) are left to their readers.
    pub fn from_ros_params(path: &Path, node: Option<&str>) -> Result<Self, ConfigError> {
        let mut params = ros_parameters(path, node)?;
        if let Some(m) = params.as_mapping_mut() {
            m.retain(|k, _| {
                matches!(
                    k.as_str(),
                    Some("detector" | "classifier" | "threads" | "models_dir")
                )
            });
            // The per-track smoothing sits with the classifier's settings (see tracker_from_ros_params).
            if let Some(c) = m.get_mut("classifier").and_then(|c| c.as_mapping_mut()) {
                c.remove("smoothing");
            }
        }
        let cfg: Self = serde_yaml_ng::from_value(params).map_err(|e| ConfigError::Parse {
            path: path.into(),
            reason: e.to_string(),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }
}

/// The tracker's settings from a ROS 2 parameters file: `tracker.*` and `classifier.smoothing`,
/// as the node reads them (defaults for what the file leaves out), so that a replay with the
/// node's params file tracks and smooths as the node did.
pub fn tracker_from_ros_params(
    path: &Path,
    node: Option<&str>,
) -> Result<TrackerConfig, ConfigError> {
    let params = ros_parameters(path, node)?;
    let parse = |reason: String| ConfigError::Parse {
        path: path.into(),
        reason,
    };
    let mut cfg: TrackerConfig = match params.get("tracker") {
        Some(t) => {
            serde_yaml_ng::from_value(t.clone()).map_err(|e| parse(format!("tracker: {e}")))?
        }
        None => TrackerConfig::default(),
    };
    if let Some(s) = params.get("classifier").and_then(|c| c.get("smoothing")) {
        cfg.smoothing = s
            .as_f64()
            .ok_or_else(|| parse(format!("classifier.smoothing: {s:?} is not a number")))?
            as f32;
    }
    cfg.validate().map_err(|reason| ConfigError::Invalid {
        name: "tracker",
        reason,
    })?;
    Ok(cfg)
}

/// The `ros__parameters` of `node` (or of the first node in the file, or `/**`) in a ROS 2
/// parameters file.
fn ros_parameters(path: &Path, node: Option<&str>) -> Result<serde_yaml_ng::Value, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.into(),
        reason: e.to_string(),
    })?;
    let parse = |reason: String| ConfigError::Parse {
        path: path.into(),
        reason,
    };
    let doc: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).map_err(|e| parse(e.to_string()))?;
    let nodes = doc
        .as_mapping()
        .ok_or_else(|| parse("top level is not a mapping of node names".into()))?;
    nodes
        .iter()
        .find(|(k, _)| node.is_none_or(|n| k.as_str() == Some(n) || k.as_str() == Some("/**")))
        .and_then(|(_, v)| v.get("ros__parameters"))
        .cloned()
        .ok_or_else(|| {
            parse(format!(
                "no `{}: ros__parameters:` section",
                node.unwrap_or("<node>")
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::DetectorKind;

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        f
    }

    #[test]
    fn ros_params_file_overrides_defaults() {
        let f = write("masked_fer:\n  ros__parameters:\n    image_topics: [/camera/image_raw]\n    threads: 2\n    detector:\n      kind: blazeface\n      input_width: 128\n      input_height: 128\n      score_threshold: 0.7\n");
        let c = PipelineConfig::from_ros_params(f.path(), Some("masked_fer")).unwrap();
        assert_eq!(c.threads, 2);
        assert_eq!(c.detector.kind, DetectorKind::Blazeface);
        assert_eq!(c.detector.score_threshold, 0.7);
        assert_eq!(c.detector.max_faces, DetectorConfig::default().max_faces);
        assert_eq!(
            tracker_from_ros_params(f.path(), None).unwrap(),
            TrackerConfig::default(),
            "no tracker settings: the defaults"
        );
    }

    #[test]
    fn tracker_settings_come_from_the_same_file_as_the_node_reads_them() {
        let f = write("/**:\n  ros__parameters:\n    classifier:\n      smoothing: 0.8\n    tracker:\n      min_iou: 0.5\n      confirm_after: 3\n");
        let t = tracker_from_ros_params(f.path(), None).unwrap();
        assert_eq!(
            (t.smoothing, t.min_iou, t.confirm_after, t.retire_after),
            (0.8, 0.5, 3, TrackerConfig::default().retire_after)
        );
        // The pipeline's reader ignores them; the tracker's names its problems.
        assert!(PipelineConfig::from_ros_params(f.path(), None).is_ok());
        let typo = write("/**:\n  ros__parameters:\n    tracker:\n      confirm_afer: 3\n");
        let e = tracker_from_ros_params(typo.path(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("confirm_afer"), "{e}");
        let bad = write("/**:\n  ros__parameters:\n    classifier:\n      smoothing: 1.5\n");
        let e = tracker_from_ros_params(bad.path(), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("smoothing"), "{e}");
    }

    #[test]
    fn bad_files_name_the_problem() {
        let typo =
            write("masked_fer:\n  ros__parameters:\n    detector:\n      score_treshold: 0.5\n");
        assert!(PipelineConfig::from_ros_params(typo.path(), None)
            .unwrap_err()
            .to_string()
            .contains("score_treshold"));
        let range = write("masked_fer:\n  ros__parameters:\n    detector:\n      nms_iou: 3.0\n");
        assert!(PipelineConfig::from_ros_params(range.path(), None)
            .unwrap_err()
            .to_string()
            .contains("nms_iou"));
        let other = write("someone_else:\n  ros__parameters: {}\n");
        assert!(PipelineConfig::from_ros_params(other.path(), Some("masked_fer")).is_err());
        assert!(
            PipelineConfig::from_ros_params(Path::new("/nonexistent.yaml"), None)
                .unwrap_err()
                .to_string()
                .contains("/nonexistent.yaml")
        );
    }
}
