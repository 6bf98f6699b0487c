//! Expression classifier: reads its feeding instructions from the ONNX `metadata_props` (the
//! model contract in docs/ARCHITECTURE.md), crops every face square around its box, and runs
//! all faces of a frame in one batched call.

use std::path::{Path, PathBuf};

use ndarray::{ArrayView3, ArrayView4, ArrayViewMut4, Axis};
use ort::session::Session;
use ort::value::TensorRef;

use crate::perception::detect::BBox;
use crate::perception::image::resize::{Region, RgbResizer};
use crate::perception::runtime::{
    contract_error, first_input_name, inference_error, load_error, open_session, ModelError,
};
use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorMode {
    Gray,
    Rgb,
}

/// How to feed a model, as declared in its metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelContract {
    /// Class names in output order (lowercase FER names).
    pub labels: Vec<String>,
    pub height: usize,
    pub width: usize,
    pub color: ColorMode,
    /// Per channel, on 0-1 pixel values.
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    /// Fraction of the (square) box side added on each side when cropping.
    pub crop_margin: f32,
    /// True when the model outputs logits (softmax is applied here).
    pub logits: bool,
}

impl ModelContract {
    /// Parse the contract from `key -> value` metadata; `path` names the model in errors.
    pub fn parse(get: impl Fn(&str) -> Option<String>, path: &Path) -> Result<Self, ModelError> {
        let bad = |reason: String| contract_error(path, reason);
        let need = |key: &str| {
            get(key).ok_or_else(|| {
                bad(format!(
                    "metadata_props has no {key:?}; not a masked_fer classifier export"
                ))
            })
        };
        let floats = |key: &str| -> Result<Vec<f32>, ModelError> {
            need(key)?
                .split(',')
                .map(|v| v.trim().parse::<f32>().ok().filter(|f| f.is_finite()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad(format!("{key} must be comma-separated numbers")))
        };
        let labels: Vec<String> = need("labels")?
            .split(',')
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .collect();
        if labels.len() < 2 {
            return Err(bad("labels must name at least two classes".into()));
        }
        let size = need("input_size")?;
        let (h, w) = size
            .split_once(['x', 'X'])
            .and_then(|(h, w)| {
                Some((
                    h.trim().parse::<usize>().ok()?,
                    w.trim().parse::<usize>().ok()?,
                ))
            })
            .filter(|&(h, w)| (8..=1024).contains(&h) && (8..=1024).contains(&w))
            .ok_or_else(|| bad(format!("input_size {size:?} is not HxW within 8..1024")))?;
        let color = match need("color")?.trim() {
            "gray" | "grey" => ColorMode::Gray,
            "rgb" => ColorMode::Rgb,
            other => return Err(bad(format!("color {other:?} is neither gray nor rgb"))),
        };
        let channels = if color == ColorMode::Gray { 1 } else { 3 };
        let (mean, std) = (floats("mean")?, floats("std")?);
        if mean.len() != channels || std.len() != channels || std.iter().any(|&s| s <= 0.0) {
            return Err(bad(format!(
                "mean/std need {channels} value(s) each, std > 0"
            )));
        }
        let crop_margin = floats("crop_margin")?
            .first()
            .copied()
            .filter(|m| (-0.4..=1.0).contains(m))
            .ok_or_else(|| bad("crop_margin must be within -0.4..1".into()))?;
        let logits = match need("outputs")?.trim() {
            "logits" => true,
            "probabilities" => false,
            other => {
                return Err(bad(format!(
                    "outputs {other:?} is neither logits nor probabilities"
                )))
            }
        };
        Ok(Self {
            labels,
            height: h,
            width: w,
            color,
            mean,
            std,
            crop_margin,
            logits,
        })
    }

    pub fn channels(&self) -> usize {
        if self.color == ColorMode::Gray {
            1
        } else {
            3
        }
    }

    /// The square crop of a face box: side = max(w, h) * (1 + 2 * margin), same centre.
    pub fn crop_region(&self, b: &BBox) -> Region {
        square_around(b, self.crop_margin)
    }
}

fn square_around(b: &BBox, margin: f32) -> Region {
    let side = f64::from(b.width().max(b.height()).max(1.0)) * (1.0 + 2.0 * f64::from(margin));
    let (cx, cy) = b.center();
    Region {
        left: f64::from(cx) - side / 2.0,
        top: f64::from(cy) - side / 2.0,
        width: side,
        height: side,
    }
}

pub struct Classifier {
    contract: ModelContract,
    model: PathBuf,
    session: Session,
    input_name: String,
    batch: Vec<f32>,
    resizer: RgbResizer,
    /// Also classify each face's mirror image and average the two.
    flip_average: bool,
    mirrored: Vec<f32>,
}

impl Classifier {
    pub fn open(model: &Path, threads: usize) -> Result<Self, ModelError> {
        let session = open_session(model, threads)?;
        let meta = session.metadata().map_err(|e| load_error(model, e))?;
        let contract = ModelContract::parse(|k| meta.custom(k), model)?;
        drop(meta);
        let input_name = first_input_name(&session, model)?;
        Ok(Self {
            contract,
            model: model.to_path_buf(),
            session,
            input_name,
            batch: Vec::new(),
            resizer: RgbResizer::default(),
            flip_average: false,
            mirrored: Vec::new(),
        })
    }

    /// Test-time mirror averaging: every face is classified as seen and mirrored left-right (in
    /// the same batch), and the two probability vectors are averaged. Faces are near-symmetric
    /// and expressions are; the two views disagree mostly where the model is unsure. Costs one
    /// more classification per face (training/RESULTS.md has the accuracy it buys).
    pub fn with_flip_average(mut self, on: bool) -> Self {
        self.flip_average = on;
        self
    }

    pub fn contract(&self) -> &ModelContract {
        &self.contract
    }

    pub fn model_path(&self) -> &Path {
        &self.model
    }

    /// Class probabilities (in `contract().labels` order) for each face box, in one batch.
    pub fn classify(
        &mut self,
        image: ArrayView3<'_, u8>,
        boxes: &[BBox],
    ) -> Result<Vec<Vec<f32>>, Error> {
        let margin = self.contract.crop_margin;
        self.classify_regions(boxes.iter().map(|b| (image, square_around(b, margin))))
    }

    /// Class probabilities for images that are each one face, already cropped (face data sets
    /// such as FER2013): the whole image, padded to a square if needed, without the crop margin.
    pub fn classify_crops(&mut self, faces: &[ArrayView3<'_, u8>]) -> Result<Vec<Vec<f32>>, Error> {
        self.classify_regions(faces.iter().map(|f| (*f, whole_square(f.dim()))))
    }

    fn classify_regions<'i>(
        &mut self,
        crops: impl ExactSizeIterator<Item = (ArrayView3<'i, u8>, Region)>,
    ) -> Result<Vec<Vec<f32>>, Error> {
        let n = crops.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let c = &self.contract;
        let (ch, h, w) = (c.channels(), c.height, c.width);
        self.batch.resize(n * ch * h * w, 0.0);
        let mut batch = ArrayViewMut4::from_shape((n, ch, h, w), &mut self.batch[..])
            .map_err(|e| contract_error(&self.model, e.to_string()))?;
        for ((image, region), mut slot) in crops.zip(batch.axis_iter_mut(Axis(0))) {
            crop_into(&mut self.resizer, image, c, &region, &mut slot)?;
        }
        self.infer(n)
    }

    /// Class probabilities for a ready-made `[N, C, H, W]` input batch (already cropped and
    /// normalised as the contract says).
    pub fn classify_tensor(
        &mut self,
        batch: ndarray::ArrayView4<'_, f32>,
    ) -> Result<Vec<Vec<f32>>, Error> {
        let c = &self.contract;
        let want = [c.channels(), c.height, c.width];
        if batch.shape()[1..] != want {
            let [c, h, w] = want;
            let reason = format!(
                "input shape {:?}, expected [N, {c}, {h}, {w}]",
                batch.shape()
            );
            return Err(contract_error(&self.model, reason).into());
        }
        self.batch.clear();
        self.batch.extend(batch.iter().copied());
        self.infer(batch.shape()[0])
    }

    /// Runs the `n` faces in `self.batch`, with their mirror images when flip averaging is on.
    fn infer(&mut self, n: usize) -> Result<Vec<Vec<f32>>, Error> {
        let c = &self.contract;
        let face = (c.channels(), c.height, c.width);
        let shape_error = |e: ndarray::ShapeError| contract_error(&self.model, e.to_string());
        let batch = ArrayView4::from_shape((n, face.0, face.1, face.2), &self.batch[..])
            .map_err(shape_error)?;
        if !self.flip_average {
            return Self::run(&mut self.session, &self.model, &self.input_name, c, batch);
        }
        with_mirrors(batch, &mut self.mirrored);
        let doubled = ArrayView4::from_shape((2 * n, face.0, face.1, face.2), &self.mirrored[..])
            .map_err(shape_error)?;
        let probs = Self::run(&mut self.session, &self.model, &self.input_name, c, doubled)?;
        Ok(average_mirrors(probs))
    }

    fn run(
        session: &mut Session,
        model: &Path,
        input_name: &str,
        c: &ModelContract,
        batch: ndarray::ArrayView4<'_, f32>,
    ) -> Result<Vec<Vec<f32>>, Error> {
        let n = batch.shape()[0];
        let fail = inference_error(model);
        let tensor = TensorRef::from_array_view(batch).map_err(&fail)?;
        let outputs = session
            .run(ort::inputs![input_name => tensor])
            .map_err(&fail)?;
        let out = outputs[0].try_extract_array::<f32>().map_err(&fail)?;
        let k = c.labels.len();
        if out.shape() != [n, k] {
            let reason = format!(
                "output shape {:?}, expected [{n}, {k}] for {k} labels",
                out.shape()
            );
            return Err(contract_error(model, reason).into());
        }
        Ok(out
            .outer_iter()
            .map(|row| {
                if c.logits {
                    softmax(row.iter().copied())
                } else {
                    row.iter().copied().collect()
                }
            })
            .collect())
    }
}

/// The square with the image's centre and its longer side.
fn whole_square((h, w, _): (usize, usize, usize)) -> Region {
    let side = h.max(w) as f64;
    Region {
        left: (w as f64 - side) / 2.0,
        top: (h as f64 - side) / 2.0,
        width: side,
        height: side,
    }
}

/// `batch` ([N,C,H,W]) followed by its left-right mirror image, into `out` ([2N,C,H,W]).
fn with_mirrors(batch: ArrayView4<'_, f32>, out: &mut Vec<f32>) {
    out.clear();
    out.extend(batch.iter().copied());
    for row in batch.rows() {
        out.extend(row.iter().rev().copied());
    }
}

/// Mean of row i and row n + i of 2n probability rows (a face and its mirror image).
fn average_mirrors(mut probs: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
    let mirrors = probs.split_off(probs.len() / 2);
    for (p, m) in probs.iter_mut().zip(mirrors) {
        for (a, b) in p.iter_mut().zip(m) {
            *a = (*a + b) / 2.0;
        }
    }
    probs
}

/// Crop `region` of the image into one [C,H,W] slot: the part inside the image is resized into
/// the matching part of the slot, the part outside is padded with mid-grey (no distortion).
fn crop_into(
    resizer: &mut RgbResizer,
    image: ArrayView3<'_, u8>,
    c: &ModelContract,
    region: &Region,
    slot: &mut ndarray::ArrayViewMut3<'_, f32>,
) -> Result<(), Error> {
    let (ih, iw, _) = image.dim();
    let (h, w) = (c.height, c.width);
    let norm = |v: f32, ch: usize| (v / 255.0 - c.mean[ch]) / c.std[ch];
    for ch in 0..c.channels() {
        slot.index_axis_mut(Axis(0), ch).fill(norm(128.0, ch));
    }
    let x0 = region.left.max(0.0);
    let y0 = region.top.max(0.0);
    let x1 = (region.left + region.width).min(iw as f64);
    let y1 = (region.top + region.height).min(ih as f64);
    let (sx, sy) = (w as f64 / region.width, h as f64 / region.height);
    // Destination rectangle of the visible part, in slot pixels.
    let dx0 = (((x0 - region.left) * sx).round() as usize).min(w);
    let dy0 = (((y0 - region.top) * sy).round() as usize).min(h);
    let dx1 = (((x1 - region.left) * sx).round() as usize).min(w);
    let dy1 = (((y1 - region.top) * sy).round() as usize).min(h);
    if dx1 <= dx0 || dy1 <= dy0 {
        return Ok(()); // the box lies outside the image: all padding
    }
    let (dw, dh) = (dx1 - dx0, dy1 - dy0);
    let visible = Region {
        left: x0,
        top: y0,
        width: x1 - x0,
        height: y1 - y0,
    };
    let px = resizer.resize(image, Some(visible), dw as u32, dh as u32)?;
    for y in 0..dh {
        for x in 0..dw {
            let p = &px[(y * dw + x) * 3..(y * dw + x) * 3 + 3];
            if c.color == ColorMode::Gray {
                // ITU-R 601 luma, as PIL's convert("L") used on the training images.
                let l =
                    (f32::from(p[0]) * 299.0 + f32::from(p[1]) * 587.0 + f32::from(p[2]) * 114.0)
                        / 1000.0;
                slot[[0, dy0 + y, dx0 + x]] = norm(l, 0);
            } else {
                for ch in 0..3 {
                    slot[[ch, dy0 + y, dx0 + x]] = norm(f32::from(p[ch]), ch);
                }
            }
        }
    }
    Ok(())
}

pub fn softmax(values: impl Iterator<Item = f32> + Clone) -> Vec<f32> {
    let max = values.clone().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = values.map(|v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn meta(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const GOOD: [(&str, &str); 7] = [
        ("labels", "angry,disgust,fear,happy,neutral,sad,surprise"),
        ("input_size", "48x48"),
        ("color", "gray"),
        ("mean", "0.5"),
        ("std", "0.25"),
        ("crop_margin", "0.1"),
        ("outputs", "logits"),
    ];

    #[test]
    fn contract_parses_and_crops_square() {
        let c = ModelContract::parse(meta(&GOOD), Path::new("m.onnx")).unwrap();
        assert_eq!(c.labels.len(), 7);
        assert_eq!((c.height, c.width, c.channels()), (48, 48, 1));
        let r = c.crop_region(&BBox {
            x0: 10.0,
            y0: 20.0,
            x1: 30.0,
            y1: 60.0,
        });
        let near = |a: f64, b: f64| (a - b).abs() < 1e-4;
        assert!(near(r.width, 48.0) && near(r.height, 48.0), "{r:?}");
        assert!(near(r.left, -4.0) && near(r.top, 16.0), "{r:?}");
    }

    #[test]
    fn every_broken_key_is_named() {
        for (key, value) in [
            ("labels", "happy"),
            ("input_size", "48"),
            ("color", "hsv"),
            ("mean", "a"),
            ("std", "0"),
            ("crop_margin", "5"),
            ("outputs", "scores"),
        ] {
            let pairs: Vec<(&str, &str)> = GOOD
                .iter()
                .map(|&(k, v)| if k == key { (k, value) } else { (k, v) })
                .collect();
            let err = ModelContract::parse(meta(&pairs), Path::new("m.onnx"))
                .unwrap_err()
                .to_string();
            assert!(err.contains("m.onnx"), "{err}");
        }
        let missing: Vec<(&str, &str)> = GOOD
            .iter()
            .copied()
            .filter(|(k, _)| *k != "outputs")
            .collect();
        assert!(ModelContract::parse(meta(&missing), Path::new("m.onnx"))
            .unwrap_err()
            .to_string()
            .contains("outputs"));
    }

    #[test]
    fn crops_pad_outside_the_image_instead_of_stretching() {
        let c = ModelContract::parse(meta(&GOOD), Path::new("m.onnx")).unwrap();
        let white = ndarray::Array3::from_elem((40, 40, 3), 255u8);
        let mut slot = ndarray::Array3::<f32>::zeros((1, 48, 48));
        // A crop whose left half lies outside the image.
        let region = Region {
            left: -20.0,
            top: 0.0,
            width: 40.0,
            height: 40.0,
        };
        crop_into(
            &mut RgbResizer::default(),
            white.view(),
            &c,
            &region,
            &mut slot.view_mut(),
        )
        .unwrap();
        let grey = (128.0 / 255.0 - 0.5) / 0.25;
        let white_v = (1.0 - 0.5) / 0.25;
        assert!((slot[[0, 10, 5]] - grey).abs() < 1e-5);
        assert!((slot[[0, 10, 40]] - white_v).abs() < 1e-5);
    }

    #[test]
    fn mirrors_follow_the_batch_and_are_averaged_back() {
        let batch = ndarray::Array4::from_shape_fn((2, 1, 2, 3), |(n, _, y, x)| {
            (n * 100 + y * 10 + x) as f32
        });
        let mut out = Vec::new();
        with_mirrors(batch.view(), &mut out);
        assert_eq!(&out[..12], batch.as_slice().unwrap());
        #[rustfmt::skip]
        let mirrored = [2.0, 1.0, 0.0, 12.0, 11.0, 10.0, 102.0, 101.0, 100.0, 112.0, 111.0, 110.0];
        assert_eq!(&out[12..], mirrored);
        let probs = vec![
            vec![0.25, 0.75],
            vec![1.0, 0.0],
            vec![0.75, 0.25],
            vec![0.5, 0.5],
        ];
        assert_eq!(
            average_mirrors(probs),
            vec![vec![0.5, 0.5], vec![0.75, 0.25]]
        );
    }

    #[test]
    fn softmax_normalises() {
        let p = softmax([1.0f32, 2.0, 3.0].into_iter());
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[2] > p[1] && p[1] > p[0]);
    }
}
