//! Scoring against ground truth: the detector on annotated face boxes, the expression
//! classifier on folders of labelled face crops.

mod crops;
mod detector;

pub use crops::{list_labelled_faces, CropsError, LabelledFace, LabelledFaces};
pub use detector::*;
