//! One camera's frames, message-free: decode → detect → classify → track → what the frame
//! publishes (each face with its id, its expression hypotheses best first, smoothed per track,
//! and once the track is confirmed its ROS4HRI expression; the frame with faces drawn on it when
//! asked). The node worker and replay both drive [`CameraSession::process`]; each turns its
//! [`FrameOutput`] into messages through [`crate::tracking::messages`].

use std::time::Instant;

use ndarray::ArrayView3;

use crate::perception::detect::{iou, BBox, Detection};
use crate::perception::image::{decode_compressed, RawImage, RgbPixels};
use crate::perception::pipeline::{Face, Pipeline, StageTimes};
use crate::tracking::annotate::annotated;
use crate::tracking::expression::{ros4hri_word, valence_arousal};
use crate::tracking::face_images;
use crate::tracking::keyframes::{all_found, Keyframes};
use crate::tracking::track::{Tracker, TrackerConfig};
use crate::Error;

/// A ROS4HRI face id: `f<track>_<epoch>` for a single camera and `c<camera>f<track>_<epoch>` when
/// one node watches several (tracks are per camera). ROS name tokens must not start with a digit.
/// `epoch` ([`epoch`]) comes from the camera's first frame, so ids are unique across node
/// restarts (REP-155) and yet the same when the same frames are replayed.
pub fn face_id(camera: usize, cameras: usize, track: u64, epoch: &str) -> String {
    if cameras > 1 {
        format!("c{camera}f{track}_{epoch}")
    } else {
        format!("f{track}_{epoch}")
    }
}

/// A session's epoch: the stamp of its first frame in milliseconds, base 36 (the wall clock when
/// the frame carries no stamp).
pub fn epoch(stamp_ns: i64) -> String {
    let ns = if stamp_ns > 0 {
        stamp_ns as u128
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    };
    let (mut ms, mut digits) = (ns / 1_000_000, Vec::new());
    loop {
        digits.push(char::from_digit((ms % 36) as u32, 36).unwrap_or('0'));
        ms /= 36;
        if ms == 0 {
            return digits.iter().rev().collect();
        }
    }
}

/// A camera frame's pixels as received: a raw `sensor_msgs/Image` buffer or compressed bytes.
pub enum FrameInput<'a> {
    Raw(RawImage<'a>),
    Compressed { format: &'a str, data: &'a [u8] },
}

impl<'a> FrameInput<'a> {
    fn decode(&self) -> Result<RgbPixels<'a>, crate::perception::image::FrameError> {
        match self {
            FrameInput::Raw(raw) => raw.to_rgb(),
            FrameInput::Compressed { format, data } => decode_compressed(format, data),
        }
    }
}

/// The images a frame makes besides its faces, when asked for.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameImages {
    /// The frame with its faces drawn.
    pub debug: bool,
    /// Each confirmed face's [`face_images::cropped`] image, `face_size` pixels square.
    pub cropped: bool,
    /// Each confirmed face's [`face_images::aligned`] image.
    pub aligned: bool,
    pub face_size: u32,
}

/// What one frame of one camera produced.
pub struct FrameOutput {
    pub width: usize,
    pub height: usize,
    pub faces: Vec<FaceOutput>,
    pub times: StageTimes,
    /// The frame with its faces drawn, when asked for.
    pub debug_image: Option<image::RgbImage>,
    /// The resolution changed since the previous frame, so the face tracks were restarted.
    pub tracks_restarted: bool,
    /// The whole frame went through the detector: a scheduled keyframe, or a region frame that
    /// lost a followed face ([`crate::tracking::keyframes`]).
    pub keyframe: bool,
}

/// The per-camera state: its face tracker, its place among the cameras and its epoch (for face
/// ids), and the resolution of its last frame.
pub struct CameraSession {
    camera: usize,
    cameras: usize,
    epoch: Option<String>,
    tracker: Tracker,
    keyframes: Keyframes,
    resolution: Option<(usize, usize)>,
}

impl CameraSession {
    /// Camera `camera` of `cameras` (face ids carry the camera when there are several).
    pub fn new(camera: usize, cameras: usize, tracker: TrackerConfig) -> Self {
        Self {
            camera,
            cameras,
            epoch: None,
            tracker: Tracker::new(tracker),
            keyframes: Keyframes::default(),
            resolution: None,
        }
    }

    /// New tracker settings, from the next frame on (tracks are kept).
    pub fn set_tracker(&mut self, config: TrackerConfig) {
        self.tracker.set_config(config);
    }

    /// Ids of this camera's confirmed tracks.
    pub fn confirmed_ids(&self) -> Vec<String> {
        self.tracker
            .confirmed_ids()
            .into_iter()
            .map(|t| self.face_id(t))
            .collect()
    }

    fn face_id(&self, track: u64) -> String {
        face_id(
            self.camera,
            self.cameras,
            track,
            self.epoch.as_deref().unwrap_or("0"),
        )
    }

    /// Decode, detect, classify and track one frame stamped `stamp_ns` (its header stamp), with
    /// the `images` asked for. A frame that cannot be decoded is an [`Error::Frame`] and leaves
    /// the tracks as they were.
    pub fn process(
        &mut self,
        pipeline: &mut Pipeline,
        input: &FrameInput<'_>,
        stamp_ns: i64,
        images: &FrameImages,
    ) -> Result<FrameOutput, Error> {
        self.epoch.get_or_insert_with(|| epoch(stamp_ns));
        let t = Instant::now();
        let rgb = input.decode()?;
        let decode = t.elapsed();
        let (height, width, _) = rgb.dim();
        let tracks_restarted = self.resolution.is_some_and(|r| r != (width, height));
        if tracks_restarted {
            self.tracker.clear();
            self.keyframes.reset();
        }
        self.resolution = Some((width, height));
        let t = Instant::now();
        let (detections, keyframe) = self.detect(pipeline, rgb.view())?;
        let detect = t.elapsed();
        let t = Instant::now();
        let detected = pipeline.classify(rgb.view(), detections)?;
        let times = StageTimes {
            decode,
            detect,
            classify: t.elapsed(),
        };
        let debug_image = images.debug.then(|| annotated(rgb.view(), &detected));
        let mut faces = self.track(pipeline.labels(), &detected);
        for (out, face) in faces.iter_mut().zip(&detected).filter(|(o, _)| o.confirmed) {
            let size = images.face_size;
            out.cropped = images
                .cropped
                .then(|| face_images::cropped(rgb.view(), &face.bbox, size));
            out.aligned = images
                .aligned
                .then(|| face_images::aligned(rgb.view(), &face.bbox, &face.landmarks, size));
        }
        Ok(FrameOutput {
            width,
            height,
            faces,
            times,
            debug_image,
            tracks_restarted,
            keyframe,
        })
    }

    /// This frame's faces, from the whole frame or from regions around the followed faces as
    /// [`Keyframes`] plans it, with the same frame's full detection as fallback; and whether the
    /// whole frame went through the detector.
    fn detect(
        &mut self,
        pipeline: &mut Pipeline,
        rgb: ArrayView3<'_, u8>,
    ) -> Result<(Vec<Detection>, bool), Error> {
        let (height, width, _) = rgb.dim();
        let d = &pipeline.config().detector;
        let (interval, margin, threshold) =
            (d.keyframe_interval, d.region_margin, d.score_threshold);
        let followed = self.tracker.followed();
        let live: Vec<BBox> = followed.iter().map(|(b, _)| *b).collect();
        let regions = self
            .keyframes
            .plan(interval, margin, &live, (width, height));
        let t = Instant::now();
        let mut detections = pipeline.detect(rgb, regions.as_deref())?;
        self.keyframes
            .measured(regions.as_ref().map(Vec::len), t.elapsed().as_secs_f64());
        if regions.is_none() {
            return Ok((detections, true));
        }
        // Below the detection threshold a region keeps only what continues a track.
        let min_iou = self.tracker.config().min_iou;
        let continues = |b: &BBox| live.iter().any(|l| iou(l, b) >= min_iou);
        detections.retain(|f| f.score >= threshold || continues(&f.bbox));
        let must: Vec<BBox> = followed.iter().filter(|f| f.1).map(|f| f.0).collect();
        let found: Vec<BBox> = detections.iter().map(|d| d.bbox).collect();
        if all_found(&must, &found, min_iou) {
            return Ok((detections, false));
        }
        let t = Instant::now();
        let detections = pipeline.detect(rgb, None)?;
        self.keyframes.measured(None, t.elapsed().as_secs_f64());
        self.keyframes.keyframe();
        Ok((detections, true))
    }

    /// Track `faces` and rank their smoothed expression probabilities.
    fn track(&mut self, labels: &[String], faces: &[Face]) -> Vec<FaceOutput> {
        let boxes: Vec<BBox> = faces.iter().map(|f| f.bbox).collect();
        let probs: Vec<Vec<f32>> = faces.iter().map(|f| f.probabilities.clone()).collect();
        faces
            .iter()
            .zip(self.tracker.update(&boxes, &probs))
            .map(|(face, tracked)| {
                let mut hypotheses: Vec<(String, f32)> = labels
                    .iter()
                    .cloned()
                    .zip(tracked.probabilities.iter().copied())
                    .collect();
                hypotheses.sort_by(|a, b| b.1.total_cmp(&a.1));
                let expression = hypotheses.first().map(|(label, p)| {
                    let (valence, arousal) = valence_arousal(labels, &tracked.probabilities);
                    HriExpression {
                        word: ros4hri_word(label).to_string(),
                        valence,
                        arousal,
                        confidence: *p,
                    }
                });
                FaceOutput {
                    id: self.face_id(tracked.id),
                    bbox: face.bbox,
                    landmarks: face.landmarks,
                    score: face.score,
                    track: tracked.id,
                    confirmed: tracked.confirmed,
                    hypotheses,
                    expression,
                    cropped: None,
                    aligned: None,
                }
            })
            .collect()
    }
}

/// hri_msgs/Expression content.
#[derive(Debug, Clone, PartialEq)]
pub struct HriExpression {
    /// ROS4HRI word (angry, disgusted, scared, happy, neutral, sad, surprised).
    pub word: String,
    pub valence: f32,
    pub arousal: f32,
    pub confidence: f32,
}

/// One face of a frame as published.
#[derive(Debug, Clone, PartialEq)]
pub struct FaceOutput {
    /// ROS4HRI face id ([`face_id`]).
    pub id: String,
    pub bbox: BBox,
    /// The detector's five points ([`crate::perception::detect::Detection`]), pixels.
    pub landmarks: [[f32; 2]; 5],
    /// Detector confidence.
    pub score: f32,
    pub track: u64,
    /// Published on ROS4HRI topics only once confirmed (seen `confirm_after` frames in a row).
    pub confirmed: bool,
    /// (FER class name, smoothed probability), best first; empty when classification is off.
    pub hypotheses: Vec<(String, f32)>,
    /// Present when the face has probabilities.
    pub expression: Option<HriExpression>,
    /// ROS4HRI face images of a confirmed face, when asked for ([`FrameImages`]).
    pub cropped: Option<image::RgbImage>,
    pub aligned: Option<image::RgbImage>,
}

/// The box in [0, 1] image coordinates (xmin, ymin, xmax, ymax), clamped to the image.
pub fn normalised_roi(bbox: &BBox, width: usize, height: usize) -> [f32; 4] {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    [
        (bbox.x0 / w).clamp(0.0, 1.0),
        (bbox.y0 / h).clamp(0.0, 1.0),
        (bbox.x1 / w).clamp(0.0, 1.0),
        (bbox.y1 / h).clamp(0.0, 1.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, p: Vec<f32>) -> Face {
        Face {
            bbox: BBox {
                x0: x,
                y0: 10.0,
                x1: x + 40.0,
                y1: 60.0,
            },
            score: 0.9,
            landmarks: [[0.0; 2]; 5],
            expression: String::new(),
            confidence: 0.0,
            probabilities: p,
        }
    }

    #[test]
    fn ranks_hypotheses_and_confirms_tracks() {
        let labels: Vec<String> = ["happy", "sad", "fear"].map(String::from).to_vec();
        let mut t = CameraSession::new(
            0,
            1,
            TrackerConfig {
                smoothing: 0.0,
                ..Default::default()
            },
        );
        t.epoch = Some(epoch(1_000_000_000_000)); // the first frame's stamp: 1000 s
        let out = t.track(&labels, &[face(0.0, vec![0.1, 0.3, 0.6])]);
        assert_eq!((out[0].track, out[0].id.as_str()), (1, "f1_lfls"));
        assert!(!out[0].confirmed);
        assert_eq!(out[0].hypotheses[0], ("fear".to_string(), 0.6));
        assert_eq!(out[0].hypotheses[2], ("happy".to_string(), 0.1));
        let e = out[0].expression.as_ref().unwrap();
        assert_eq!((e.word.as_str(), e.confidence), ("scared", 0.6));
        let out = t.track(&labels, &[face(2.0, vec![0.1, 0.3, 0.6])]);
        assert!(out[0].confirmed);
        assert_eq!(t.confirmed_ids(), ["f1_lfls"]);
        // Without probabilities there is no hypothesis and no expression.
        let out = t.track(&[], &[face(2.0, vec![])]);
        assert!(out[0].hypotheses.is_empty() && out[0].expression.is_none());
    }

    #[test]
    fn ids_are_valid_topic_tokens_and_unique_per_camera() {
        assert_eq!(face_id(0, 1, 7, "lfls"), "f7_lfls");
        assert_eq!(face_id(1, 2, 7, "lfls"), "c1f7_lfls");
        assert_ne!(face_id(0, 2, 7, "a"), face_id(1, 2, 7, "a"));
        // A restarted node meets later frames: another epoch, other ids for the same tracks.
        assert_eq!(epoch(1_000_000_000_000), "lfls");
        assert_eq!(epoch(35_000_000), "z");
        assert_ne!(epoch(1_000_000_000_000), epoch(1_000_001_000_000));
        assert!(epoch(0).len() >= 8, "the wall clock in ms: {}", epoch(0));
        let b = BBox {
            x0: -5.0,
            y0: 10.0,
            x1: 320.0,
            y1: 500.0,
        };
        assert_eq!(normalised_roi(&b, 640, 480), [0.0, 10.0 / 480.0, 0.5, 1.0]);
    }
}
