//! BlazeFace short-range (MediaPipe face_detection_short_range.tflite, converted to ONNX).
//!
//! Input [1,3,128,128] RGB in [-1,1], letterboxed and centred; outputs `regressors` [1,896,16]
//! (box centre/size and six keypoints, in input pixels relative to the anchor) and
//! `classificators` [1,896,1] (logits). Anchors: a 16x16 grid with 2 per cell, then an 8x8 grid
//! with 6 per cell, centres at (x+0.5)/grid. Overlaps are merged with MediaPipe's weighted NMS.

use std::path::PathBuf;

use super::letterbox::Normalise;
use super::onnx::{LetterboxedModel, NetOutput};
use super::{BBox, Detection};
use crate::perception::runtime::ModelError;
use crate::Error;

pub(super) const SIZE: u32 = 128;
const NORM: Normalise = Normalise {
    source: [0, 1, 2],
    mean: [127.5; 3],
    scale: [1.0 / 127.5; 3],
    pad: -1.0,
};

/// Anchor centres normalised to [0,1], in output order.
pub fn anchors() -> Vec<[f32; 2]> {
    let mut out = Vec::with_capacity(896);
    for (grid, per_cell) in [(16usize, 2usize), (8, 6)] {
        for y in 0..grid {
            for x in 0..grid {
                for _ in 0..per_cell {
                    out.push([
                        (x as f32 + 0.5) / grid as f32,
                        (y as f32 + 0.5) / grid as f32,
                    ]);
                }
            }
        }
    }
    out
}

/// The BlazeFace network (fixed 128x128 input).
pub(super) fn open(model: PathBuf, threads: usize) -> Result<LetterboxedModel, ModelError> {
    let outputs = &["regressors", "classificators"];
    LetterboxedModel::open(model, threads, "BlazeFace", outputs, SIZE, SIZE, true, NORM)
}

/// Faces scoring at least `threshold`, in input pixels, before overlap suppression.
pub(super) fn decode(
    out: &NetOutput,
    anchors: &[[f32; 2]],
    threshold: f32,
) -> Result<Vec<Detection>, Error> {
    let n = anchors.len();
    let reg = out.array("regressors", &[1, n, 16])?;
    let cls = out.array("classificators", &[1, n, 1])?;
    let s = SIZE as f32;
    let mut faces = Vec::new();
    for (k, a) in anchors.iter().enumerate() {
        let score = 1.0 / (1.0 + (-cls[[0, k, 0]].clamp(-100.0, 100.0)).exp());
        if !score.is_finite() || score < threshold {
            continue;
        }
        let cx = reg[[0, k, 0]] + a[0] * s;
        let cy = reg[[0, k, 1]] + a[1] * s;
        let (bw, bh) = (reg[[0, k, 2]], reg[[0, k, 3]]);
        let kp = |i: usize| {
            [
                reg[[0, k, 4 + 2 * i]] + a[0] * s,
                reg[[0, k, 5 + 2 * i]] + a[1] * s,
            ]
        };
        faces.push(Detection {
            bbox: BBox {
                x0: cx - bw / 2.0,
                y0: cy - bh / 2.0,
                x1: cx + bw / 2.0,
                y1: cy + bh / 2.0,
            },
            score,
            // Keypoints: right eye, left eye (the subject's), nose, mouth centre; ears unused.
            landmarks: [kp(0), kp(1), kp(2), kp(3), kp(3)],
        });
    }
    Ok(faces)
}

#[cfg(test)]
mod tests {
    #[test]
    fn anchors_follow_mediapipe_layout() {
        let a = super::anchors();
        assert_eq!(a.len(), 896);
        assert_eq!(a[0], [0.5 / 16.0, 0.5 / 16.0]);
        assert_eq!(a[1], a[0]);
        assert_eq!(a[2], [1.5 / 16.0, 0.5 / 16.0]);
        assert_eq!(a[512], [0.5 / 8.0, 0.5 / 8.0]);
        assert_eq!(a[895], [7.5 / 8.0, 7.5 / 8.0]);
    }
}
