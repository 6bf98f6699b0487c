//! Face detection: a common [`Detection`] type, configuration and two ONNX detectors.
//!
//! Both detectors letterbox the frame into their input tensor (aspect ratio kept), decode their
//! anchors/priors, suppress overlaps and map boxes and landmarks back to source pixels.

mod blazeface;
mod letterbox;
mod nms;
mod onnx;
mod retinaface;

pub use nms::iou;

use std::path::PathBuf;

use ndarray::ArrayView3;

use onnx::LetterboxedModel;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, Range};
use crate::perception::image::resize::Region;

/// An axis-aligned box in source pixels (x0, y0 inclusive top-left; x1, y1 bottom-right).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BBox {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl BBox {
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }
    pub fn center(&self) -> (f32, f32) {
        ((self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0)
    }
    /// The box cut to `area`.
    fn clamp_within(&self, area: &BBox) -> BBox {
        BBox {
            x0: self.x0.clamp(area.x0, area.x1),
            y0: self.y0.clamp(area.y0, area.y1),
            x1: self.x1.clamp(area.x0, area.x1),
            y1: self.y1.clamp(area.y0, area.y1),
        }
    }
}

/// One face: box, confidence and five landmarks in source pixels, in image order: left eye,
/// right eye, nose, left mouth corner, right mouth corner ("left" = smaller x in the image).
/// BlazeFace has one mouth point, reported as both corners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    pub bbox: BBox,
    pub score: f32,
    pub landmarks: [[f32; 2]; 5],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectorKind {
    Retinaface,
    Blazeface,
}

impl std::str::FromStr for DetectorKind {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, ConfigError> {
        match s.to_ascii_lowercase().as_str() {
            "retinaface" => Ok(Self::Retinaface),
            "blazeface" => Ok(Self::Blazeface),
            other => Err(ConfigError::Invalid {
                name: "detector.kind",
                reason: format!("unknown detector {other:?} (retinaface, blazeface)"),
            }),
        }
    }
}

impl DetectorKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Retinaface => "retinaface",
            Self::Blazeface => "blazeface",
        }
    }
    /// Default model file name inside `models/`.
    pub fn model_file(self) -> &'static str {
        match self {
            Self::Retinaface => "retinaface_mnet025.onnx",
            Self::Blazeface => "blazeface_short_range.onnx",
        }
    }
}

/// Detector settings; the defaults are the measured choice in models/README.md.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectorConfig {
    pub kind: DetectorKind,
    /// ONNX file; empty = the default file of `kind` in the models directory.
    pub model: PathBuf,
    /// Network input size (the frame is letterboxed into it). BlazeFace is fixed at 128x128.
    pub input_width: u32,
    pub input_height: u32,
    pub score_threshold: f32,
    pub nms_iou: f32,
    /// Smallest face box width kept, in source pixels.
    pub min_face_size: f32,
    /// Most faces returned per frame (highest scores first).
    pub max_faces: usize,
    /// Run the full-frame detector on every N-th frame only (and when a followed face is lost);
    /// in between, detect only in a region around each followed face. 1 = every frame.
    pub keyframe_interval: u32,
    /// Network input side for those regions (square; BlazeFace: 128 only).
    pub region_size: u32,
    /// A region is the face's box widened by this fraction of its longer side on every side.
    pub region_margin: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self::for_kind(DetectorKind::Retinaface)
    }
}

impl DetectorConfig {
    pub fn for_kind(kind: DetectorKind) -> Self {
        let (w, h, score, iou) = match kind {
            DetectorKind::Retinaface => (640, 480, 0.6, 0.4),
            DetectorKind::Blazeface => (128, 128, 0.5, 0.3),
        };
        Self {
            kind,
            model: PathBuf::new(),
            input_width: w,
            input_height: h,
            score_threshold: score,
            nms_iou: iou,
            min_face_size: 8.0,
            max_faces: 32,
            keyframe_interval: 5,
            region_size: 128,
            region_margin: 0.25,
        }
    }

    /// Take the settings that can change while running: thresholds and limits.
    pub fn copy_limits(&mut self, from: &DetectorConfig) {
        self.score_threshold = from.score_threshold;
        self.nms_iou = from.nms_iou;
        self.min_face_size = from.min_face_size;
        self.max_faces = from.max_faces;
        self.keyframe_interval = from.keyframe_interval;
        self.region_margin = from.region_margin;
    }

    /// The settings of the detector that looks inside regions around followed faces: the same
    /// at `region_size`, keeping a face down to half the score threshold (a known face is
    /// followed with hysteresis, as trackers do; a region that re-found 150 of 182 faces at 0.6
    /// re-found 167 at 0.3: decision 12).
    pub fn for_regions(&self) -> Self {
        Self {
            input_width: self.region_size,
            input_height: self.region_size,
            score_threshold: self.score_threshold * 0.5,
            ..self.clone()
        }
    }

    /// Accepted ranges (see [`Range`]).
    pub const INPUT_SIDE: Range = Range::Int(32, 4096);
    pub const SCORE_THRESHOLD: Range = Range::Float(0.0, 1.0);
    pub const NMS_IOU: Range = Range::Float(0.0, 1.0);
    pub const MIN_FACE_SIZE: Range = Range::Float(0.0, 4096.0);
    pub const MAX_FACES: Range = Range::Int(1, 1000);
    pub const KEYFRAME_INTERVAL: Range = Range::Int(1, 1000);
    pub const REGION_SIZE: Range = Range::Int(32, 1024);
    pub const REGION_MARGIN: Range = Range::Float(0.0, 4.0);

    pub fn validate(&self) -> Result<(), ConfigError> {
        Self::INPUT_SIDE.check("detector.input_width", f64::from(self.input_width))?;
        Self::INPUT_SIDE.check("detector.input_height", f64::from(self.input_height))?;
        Self::REGION_SIZE.check("detector.region_size", f64::from(self.region_size))?;
        let fixed = |name, sizes: [u32; 2]| match self.kind {
            DetectorKind::Blazeface if sizes != [128, 128] => Err(ConfigError::Invalid {
                name,
                reason: "blazeface input size is fixed at 128x128".into(),
            }),
            _ => Ok(()),
        };
        fixed(
            "detector.input_width",
            [self.input_width, self.input_height],
        )?;
        fixed("detector.region_size", [self.region_size; 2])?;
        Self::SCORE_THRESHOLD.check_f32("detector.score_threshold", self.score_threshold)?;
        Self::NMS_IOU.check_f32("detector.nms_iou", self.nms_iou)?;
        Self::MIN_FACE_SIZE.check_f32("detector.min_face_size", self.min_face_size)?;
        Self::MAX_FACES.check("detector.max_faces", self.max_faces as f64)?;
        Self::KEYFRAME_INTERVAL.check(
            "detector.keyframe_interval",
            f64::from(self.keyframe_interval),
        )?;
        Self::REGION_MARGIN.check_f32("detector.region_margin", self.region_margin)
    }
}

/// The networks' own parts: anchor layout, output decoding and overlap suppression.
enum Head {
    /// Prior boxes (cx, cy, w, h) normalised to the input; greedy NMS.
    RetinaFace(Vec<[f32; 4]>),
    /// Anchor centres normalised to the input; MediaPipe's weighted NMS.
    BlazeFace(Vec<[f32; 2]>),
}

/// The box of a whole `[height, width, 3]` image.
fn whole(image: ArrayView3<'_, u8>) -> BBox {
    let (h, w, _) = image.dim();
    BBox {
        x0: 0.0,
        y0: 0.0,
        x1: w as f32,
        y1: h as f32,
    }
}

impl Head {
    /// Overlap suppression as the network's authors do it, best first.
    fn suppress(&self, faces: Vec<Detection>, threshold: f32) -> Vec<Detection> {
        match self {
            Head::RetinaFace(_) => nms::greedy(faces, threshold),
            Head::BlazeFace(_) => nms::weighted(faces, threshold),
        }
    }
}

/// A face detector: the frame letterboxed into the network, its output decoded, overlaps
/// suppressed, boxes mapped back to the frame, then clamped, small faces dropped and the best
/// `max_faces` kept. Owns its ONNX session and scratch buffers.
pub struct Detector {
    config: DetectorConfig,
    net: LetterboxedModel,
    head: Head,
}

impl Detector {
    /// Open the detector named by `config.kind` with the model at `model` (already resolved).
    pub fn open(
        config: &DetectorConfig,
        model: PathBuf,
        threads: usize,
    ) -> Result<Self, crate::Error> {
        config.validate()?;
        let (w, h) = (config.input_width, config.input_height);
        let (net, head) = match config.kind {
            DetectorKind::Retinaface => (
                retinaface::open(model, threads, w, h)?,
                Head::RetinaFace(retinaface::priors(w, h)),
            ),
            DetectorKind::Blazeface => (
                blazeface::open(model, threads)?,
                Head::BlazeFace(blazeface::anchors()),
            ),
        };
        Ok(Self {
            config: config.clone(),
            net,
            head,
        })
    }

    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Change thresholds and limits without reloading the model (input size and kind excluded).
    pub fn set_limits(&mut self, config: &DetectorConfig) {
        self.config.copy_limits(config);
    }

    /// Faces in an RGB8 `[height, width, 3]` image, best first.
    pub fn detect(&mut self, image: ArrayView3<'_, u8>) -> Result<Vec<Detection>, crate::Error> {
        self.detect_in(image, whole(image), None)
    }

    /// Faces inside `area` of `image` (the whole image when `crop` is `None`, else `crop`, the
    /// same box), in the image's coordinates.
    fn detect_in(
        &mut self,
        image: ArrayView3<'_, u8>,
        area: BBox,
        crop: Option<Region>,
    ) -> Result<Vec<Detection>, crate::Error> {
        let c = &self.config;
        let out = self.net.run(image, crop)?;
        let mut faces = match &self.head {
            Head::RetinaFace(priors) => retinaface::decode(&out, priors, c.score_threshold)?,
            Head::BlazeFace(anchors) => blazeface::decode(&out, anchors, c.score_threshold)?,
        };
        for f in &mut faces {
            let [x0, y0] = out.place.to_source(f.bbox.x0, f.bbox.y0);
            let [x1, y1] = out.place.to_source(f.bbox.x1, f.bbox.y1);
            f.bbox = BBox { x0, y0, x1, y1 };
            for p in &mut f.landmarks {
                *p = out.place.to_source(p[0], p[1]);
            }
        }
        let mut faces = self.head.suppress(faces, c.nms_iou);
        for f in &mut faces {
            f.bbox = f.bbox.clamp_within(&area);
        }
        faces.retain(|f| f.bbox.width() >= c.min_face_size.max(1.0) && f.bbox.height() >= 1.0);
        faces.truncate(c.max_faces);
        Ok(faces)
    }

    /// Faces inside `regions` of `image` (boxes in its pixels), in the image's coordinates: each
    /// region alone goes through the network at this detector's input size; overlaps between
    /// regions are suppressed as within one.
    pub fn detect_regions(
        &mut self,
        image: ArrayView3<'_, u8>,
        regions: &[BBox],
    ) -> Result<Vec<Detection>, crate::Error> {
        let (h, w, _) = image.dim();
        let all = whole(image);
        let mut faces = Vec::new();
        for r in regions {
            let r = r.clamp_within(&all);
            if r.width() < 1.0 || r.height() < 1.0 {
                continue;
            }
            // In f64 and kept inside the image: the resizer refuses a crop past its edge, which
            // f32 rounding of x0 + width could otherwise make.
            let (left, top) = (f64::from(r.x0), f64::from(r.y0));
            let crop = Region {
                left,
                top,
                width: (f64::from(r.x1) - left).min(w as f64 - left),
                height: (f64::from(r.y1) - top).min(h as f64 - top),
            };
            faces.extend(self.detect_in(image, r, Some(crop))?);
        }
        if regions.len() > 1 {
            faces = self.head.suppress(faces, self.config.nms_iou);
            faces.truncate(self.config.max_faces);
        }
        Ok(faces)
    }
}
