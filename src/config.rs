//! Typed settings of the pipeline, their accepted ranges and the error for settings that cannot
//! work. Every setting's name, default, range and description as a parameter: [`crate::params`].

use std::path::PathBuf;

use crate::perception::detect::DetectorConfig;

#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("unknown parameter {name} (see masked_fer_node --help)")]
    Unknown { name: String },
    #[error("{name}: expected {expected}, got {got}")]
    WrongType {
        name: &'static str,
        expected: &'static str,
        got: String,
    },
    #[error("{name}: {value} is outside [{}, {}]", range.bounds().0, range.bounds().1)]
    OutOfRange {
        name: &'static str,
        value: f64,
        range: Range,
    },
    #[error("invalid parameter {name}: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// The accepted values of a numeric setting: one source for validation, refusals and the
/// parameter descriptions (`lo..hi`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    Int(i64, i64),
    Float(f64, f64),
}

impl Range {
    pub fn bounds(self) -> (f64, f64) {
        match self {
            Range::Int(lo, hi) => (lo as f64, hi as f64),
            Range::Float(lo, hi) => (lo, hi),
        }
    }

    /// `x` within the range, or the error naming `name`.
    pub fn check(self, name: &'static str, x: f64) -> Result<(), ConfigError> {
        let (lo, hi) = self.bounds();
        if x.is_finite() && (lo..=hi).contains(&x) {
            Ok(())
        } else {
            Err(ConfigError::OutOfRange {
                name,
                value: x,
                range: self,
            })
        }
    }

    /// [`Range::check`] for a value stored as f32, compared at f32 precision (0.99f32 is within
    /// 0..0.99 although it widens to 0.9900000095).
    pub fn check_f32(self, name: &'static str, x: f32) -> Result<(), ConfigError> {
        let (lo, hi) = self.bounds();
        if x.is_finite() && (lo as f32..=hi as f32).contains(&x) {
            Ok(())
        } else {
            self.check(name, f64::from(x))
        }
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (lo, hi) = self.bounds();
        write!(f, "{lo}..{hi}")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierConfig {
    /// Expression model (ONNX with the masked_fer metadata contract); empty = the default model.
    pub model: PathBuf,
    /// Classify faces at all (off = detection only).
    pub enabled: bool,
    /// Also classify each face's mirror image and average the two (one more classification per
    /// face; see [`crate::perception::classify::Classifier::with_flip_average`]).
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

/// Everything a [`crate::perception::pipeline::Pipeline`] needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    pub detector: DetectorConfig,
    pub classifier: ClassifierConfig,
    /// ONNX Runtime intra-op threads per model.
    pub threads: usize,
    /// Directory holding the default models; empty = search (see [`crate::perception::models`]).
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
    pub const THREADS: Range = Range::Int(1, 64);

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.detector.validate()?;
        Self::THREADS.check("threads", self.threads as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_check_at_the_precision_a_value_is_stored_in() {
        let r = Range::Float(0.0, 0.99);
        assert!(r.check_f32("s", 0.99).is_ok());
        assert!(r.check("s", 0.99).is_ok());
        let e = r.check_f32("s", 1.0).unwrap_err().to_string();
        assert_eq!(e, "s: 1 is outside [0, 0.99]");
        assert!(r.check("s", f64::NAN).is_err());
        assert_eq!(Range::Int(1, 64).to_string(), "1..64");
    }
}
