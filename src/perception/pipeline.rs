//! decode → detect → classify, behind one call; no ROS types. The CLI, replay, benchmarks and
//! the node all drive this.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ndarray::ArrayView3;
use serde::Serialize;

use crate::config::PipelineConfig;
use crate::perception::classify::Classifier;
use crate::perception::detect::{BBox, Detection, Detector};
use crate::perception::image::{decode_compressed, RawImage};
use crate::perception::models;
use crate::Error;

/// One face with its expression.
#[derive(Debug, Clone, Serialize)]
pub struct Face {
    pub bbox: BBox,
    /// Detector confidence.
    pub score: f32,
    pub landmarks: [[f32; 2]; 5],
    /// Most probable expression (empty when classification is off).
    pub expression: String,
    /// Its probability.
    pub confidence: f32,
    /// Every class probability, in [`Pipeline::labels`] order.
    pub probabilities: Vec<f32>,
}

/// Time spent per stage on one frame.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StageTimes {
    pub decode: Duration,
    pub detect: Duration,
    pub classify: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameResult {
    pub width: usize,
    pub height: usize,
    pub faces: Vec<Face>,
    pub times: StageTimes,
}

pub struct Pipeline {
    detector: Detector,
    /// The same network at `detector.region_size`, for regions around followed faces.
    region_detector: Detector,
    classifier: Option<Classifier>,
    detector_model: PathBuf,
    config: PipelineConfig,
}

/// The expression classifier `config` names (its default resolved through [`models::resolve`]).
pub fn open_classifier(config: &PipelineConfig) -> Result<Classifier, Error> {
    let path = models::resolve(
        &config.classifier.model,
        models::DEFAULT_CLASSIFIER,
        &config.models_dir,
    );
    Ok(Classifier::open(&path, config.threads)?.with_flip_average(config.classifier.flip_average))
}

impl Pipeline {
    /// Load the models named by `config` (defaults resolved through [`models::resolve`]).
    /// ONNX Runtime must already be initialised with [`crate::perception::runtime::init_runtime`], or it is
    /// looked for at its default location.
    pub fn new(config: PipelineConfig) -> Result<Self, Error> {
        config.validate()?;
        let detector_model = models::resolve(
            &config.detector.model,
            config.detector.kind.model_file(),
            &config.models_dir,
        );
        let detector = Detector::open(&config.detector, detector_model.clone(), config.threads)?;
        let regions = config.detector.for_regions();
        let region_detector = Detector::open(&regions, detector_model.clone(), config.threads)?;
        let classifier = if config.classifier.enabled {
            Some(open_classifier(&config)?)
        } else {
            None
        };
        Ok(Self {
            detector,
            region_detector,
            classifier,
            detector_model,
            config,
        })
    }

    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// Model files in use: detector, then classifier (if any).
    pub fn model_files(&self) -> Vec<PathBuf> {
        let mut v = vec![self.detector_model.clone()];
        v.extend(
            self.classifier
                .as_ref()
                .map(|c| c.model_path().to_path_buf()),
        );
        v
    }

    /// Class names of the expression model (empty when classification is off).
    pub fn labels(&self) -> &[String] {
        self.classifier
            .as_ref()
            .map_or(&[], |c| &c.contract().labels)
    }

    /// Apply new detector thresholds and limits at once (input size and model stay).
    pub fn set_detector_limits(
        &mut self,
        config: &crate::perception::detect::DetectorConfig,
    ) -> Result<(), crate::config::ConfigError> {
        config.validate()?;
        self.detector.set_limits(config);
        self.region_detector.set_limits(&config.for_regions());
        self.config.detector.copy_limits(config);
        Ok(())
    }

    pub fn process_raw(&mut self, raw: &RawImage<'_>) -> Result<FrameResult, Error> {
        let t = Instant::now();
        let rgb = raw.to_rgb()?;
        self.process_decoded(rgb.view(), t.elapsed())
    }

    pub fn process_compressed(&mut self, format: &str, data: &[u8]) -> Result<FrameResult, Error> {
        let t = Instant::now();
        let rgb = decode_compressed(format, data)?;
        self.process_decoded(rgb.view(), t.elapsed())
    }

    pub fn process_rgb(&mut self, rgb: ArrayView3<'_, u8>) -> Result<FrameResult, Error> {
        self.process_decoded(rgb, Duration::ZERO)
    }

    fn process_decoded(
        &mut self,
        rgb: ArrayView3<'_, u8>,
        decode: Duration,
    ) -> Result<FrameResult, Error> {
        let (height, width, _) = rgb.dim();
        let t = Instant::now();
        let detections = self.detect(rgb, None)?;
        let detect = t.elapsed();
        let t = Instant::now();
        let faces = self.classify(rgb, detections)?;
        Ok(FrameResult {
            width,
            height,
            faces,
            times: StageTimes {
                decode,
                detect,
                classify: t.elapsed(),
            },
        })
    }

    /// Faces in the whole frame, or only inside `regions` (boxes in the frame's pixels, at
    /// `detector.region_size`) when given.
    pub fn detect(
        &mut self,
        rgb: ArrayView3<'_, u8>,
        regions: Option<&[BBox]>,
    ) -> Result<Vec<Detection>, Error> {
        match regions {
            None => self.detector.detect(rgb),
            Some(r) => self.region_detector.detect_regions(rgb, r),
        }
    }

    /// The expression of each detected face (none when classification is off).
    pub fn classify(
        &mut self,
        rgb: ArrayView3<'_, u8>,
        detections: Vec<Detection>,
    ) -> Result<Vec<Face>, Error> {
        let boxes: Vec<BBox> = detections.iter().map(|d| d.bbox).collect();
        let probs = match self.classifier.as_mut() {
            Some(c) => c.classify(rgb, &boxes)?,
            None => vec![Vec::new(); boxes.len()],
        };
        let labels = self.labels();
        let faces = detections
            .into_iter()
            .zip(probs)
            .map(|(d, p)| {
                let best = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1));
                let (expression, confidence) =
                    best.map_or((String::new(), 0.0), |(i, &s)| (labels[i].clone(), s));
                Face {
                    bbox: d.bbox,
                    score: d.score,
                    landmarks: d.landmarks,
                    expression,
                    confidence,
                    probabilities: p,
                }
            })
            .collect();
        Ok(faces)
    }
}
