//! Flags shared by the subcommands, and turning them into a pipeline.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use masked_fer::config::PipelineConfig;
use masked_fer::params::NodeParams;
use masked_fer::perception::detect::{DetectorConfig, DetectorKind};
use masked_fer::perception::runtime::init_runtime;
use masked_fer::Pipeline;

#[derive(Args)]
pub struct Global {
    /// ONNX Runtime shared library [default: $ORT_DYLIB_PATH, else third_party/onnxruntime/ in
    /// the source tree, where `make setup` puts it].
    #[arg(long, global = true, value_name = "FILE")]
    pub ort_lib: Option<PathBuf>,
    /// Directory with the default models [default: $MASKED_FER_MODELS, the ROS package share
    /// directory, then models/ in the source tree].
    #[arg(long, global = true, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Read settings from a ROS 2 parameters file (the node's params/default.yaml format);
    /// flags given on the command line override it. `replay` also takes the node's tracking
    /// and smoothing (`tracker.*`, `classifier.smoothing`) from it, so it tracks as the node did.
    #[arg(long, global = true, value_name = "YAML")]
    pub params: Option<PathBuf>,
    /// ONNX Runtime threads per model.
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Log what is loaded and how long each stage takes.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

impl Global {
    /// The settings of `--params` (read as the node reads it), or the defaults.
    pub fn node_params(&self) -> Result<NodeParams> {
        match &self.params {
            Some(p) => NodeParams::from_file(p, None)
                .with_context(|| format!("parameters file {}", p.display())),
            None => Ok(NodeParams::default()),
        }
    }
}

/// Detector and classifier choices.
#[derive(Args, Clone, Default)]
pub struct ModelArgs {
    /// Face detector: retinaface (better on masked and small faces) or blazeface (faster,
    /// close-range only).
    #[arg(long, value_name = "NAME")]
    pub detector: Option<DetectorKind>,
    /// Detector ONNX file [default: the detector's file in the models directory].
    #[arg(long, value_name = "FILE")]
    pub detector_model: Option<PathBuf>,
    /// Detector input size WxH; the image is letterboxed into it (retinaface only; larger finds
    /// smaller faces, slower).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub input_size: Option<(u32, u32)>,
    /// Minimum detector confidence (0-1).
    #[arg(long, value_name = "P")]
    pub score_threshold: Option<f32>,
    /// Overlap (IoU) above which two detections are the same face.
    #[arg(long, value_name = "IOU")]
    pub nms_iou: Option<f32>,
    /// Smallest face width kept, in pixels.
    #[arg(long, value_name = "PX")]
    pub min_face_size: Option<f32>,
    /// Most faces kept per image.
    #[arg(long, value_name = "N")]
    pub max_faces: Option<usize>,
    /// Expression model ONNX file [default: models/slim_rgc_masked_fer_int8.onnx; the float
    /// original it was quantised from: models/slim_rgc_masked_fer.onnx].
    #[arg(long, value_name = "FILE")]
    pub classifier: Option<PathBuf>,
    /// Also classify each face mirrored left-right and average the two: +1.3 points clean and
    /// +0.4 on mask families in validation accuracy for one more classification per face (~0.4 ms).
    #[arg(long)]
    pub flip_average: bool,
    /// Detect faces only; skip expression classification.
    #[arg(long)]
    pub no_classify: bool,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?} is not WxH, e.g. 640x480"))?;
    Ok((
        w.trim()
            .parse()
            .map_err(|_| format!("bad width in {s:?}"))?,
        h.trim()
            .parse()
            .map_err(|_| format!("bad height in {s:?}"))?,
    ))
}

impl ModelArgs {
    /// Settings: defaults, then the params file, then these flags.
    pub fn config(&self, global: &Global) -> Result<PipelineConfig> {
        let mut cfg = global.node_params()?.pipeline;
        if let Some(kind) = self.detector {
            if kind != cfg.detector.kind {
                cfg.detector = DetectorConfig::for_kind(kind);
            }
        }
        let d = &mut cfg.detector;
        if let Some(m) = &self.detector_model {
            d.model = m.clone();
        }
        if let Some((w, h)) = self.input_size {
            (d.input_width, d.input_height) = (w, h);
        }
        if let Some(v) = self.score_threshold {
            d.score_threshold = v;
        }
        if let Some(v) = self.nms_iou {
            d.nms_iou = v;
        }
        if let Some(v) = self.min_face_size {
            d.min_face_size = v;
        }
        if let Some(v) = self.max_faces {
            d.max_faces = v;
        }
        if let Some(m) = &self.classifier {
            cfg.classifier.model = m.clone();
        }
        if self.no_classify {
            cfg.classifier.enabled = false;
        }
        if self.flip_average {
            cfg.classifier.flip_average = true;
        }
        if let Some(t) = global.threads {
            cfg.threads = t;
        }
        if let Some(dir) = &global.models_dir {
            cfg.models_dir = dir.clone();
        }
        cfg.validate().context("settings")?;
        Ok(cfg)
    }

    /// Load ONNX Runtime and the models.
    pub fn pipeline(&self, global: &Global) -> Result<Pipeline> {
        let cfg = self.config(global)?;
        let lib = init_runtime(global.ort_lib.as_deref())?;
        log::info!("ONNX Runtime: {}", lib.display());
        let pipeline = Pipeline::new(cfg)?;
        for m in pipeline.model_files() {
            log::info!("model: {}", m.display());
        }
        Ok(pipeline)
    }
}
