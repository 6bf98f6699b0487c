//! The shipped expression models, run through `ort` from Rust, reproduce the outputs that
//! Python produced at export time (the float model: PyTorch and ONNX Runtime,
//! training/masked_fer_train/export.py --golden; its int8 quantisation, the default: ONNX
//! Runtime, quantize.py --golden), and their metadata satisfies the model contract; flip
//! averaging is the mean of a face and its mirror image.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use masked_fer::perception::classify::{Classifier, ColorMode};
use masked_fer::perception::runtime::init_runtime;
use ndarray::Array4;
use serde_json::Value;

#[test]
fn float_model_matches_golden_outputs() {
    matches_golden("classifier_golden.json");
}

#[test]
fn default_int8_model_matches_golden_outputs() {
    matches_golden("classifier_int8_golden.json");
}

#[test]
fn flip_average_is_the_mean_of_a_face_and_its_mirror_image() {
    let golden = golden("classifier_int8_golden.json");
    let (mut plain, input) = open_with_inputs(&golden);
    let mirrored = input.slice(ndarray::s![.., .., .., ..;-1]).to_owned();
    let seen = plain.classify_tensor(input.view()).unwrap();
    let flipped = plain.classify_tensor(mirrored.view()).unwrap();
    let (clf, _) = open_with_inputs(&golden);
    let mut averaged = clf.with_flip_average(true);
    let got = averaged.classify_tensor(input.view()).unwrap();
    assert_eq!(got.len(), seen.len());
    let mut differs = false;
    for ((g, s), f) in got.iter().zip(&seen).zip(&flipped) {
        for ((g, s), f) in g.iter().zip(s).zip(f) {
            assert!((g - (s + f) / 2.0).abs() < 1e-5, "{g} vs {s} and {f}");
            differs |= (s - f).abs() > 1e-3;
        }
    }
    assert!(
        differs,
        "the mirror images should change some probabilities"
    );
}

fn golden(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(common::data(file)).unwrap()).unwrap()
}

/// The golden file's model, opened, and its inputs as one [N, 1, H, W] batch.
fn open_with_inputs(golden: &Value) -> (Classifier, Array4<f32>) {
    init_runtime(None).expect("ONNX Runtime (make setup)");
    let model = common::repo()
        .join("models")
        .join(golden["model"].as_str().unwrap());
    let clf = Classifier::open(&model, 1).unwrap();
    let c = clf.contract().clone();
    assert_eq!(
        c.labels,
        ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    );
    let shape: Vec<usize> = golden["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    // The golden inputs were made at the model's input size (export.py).
    assert_eq!(
        (1, c.height, c.width, c.color),
        (shape[1], shape[2], shape[3], ColorMode::Gray)
    );
    let flat: Vec<f32> = golden["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a.as_array().unwrap())
        .flat_map(|a| a.as_array().unwrap())
        .flat_map(|a| a.as_array().unwrap())
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    let input = Array4::from_shape_vec((shape[0], shape[1], shape[2], shape[3]), flat).unwrap();
    (clf, input)
}

fn matches_golden(file: &str) {
    let golden = golden(file);
    let (mut clf, input) = open_with_inputs(&golden);
    let got = clf.classify_tensor(input.view()).unwrap();
    let want = golden["probabilities"].as_array().unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        for (a, b) in g.iter().zip(w.as_array().unwrap()) {
            assert!(
                (f64::from(*a) - b.as_f64().unwrap()).abs() < 1e-4,
                "{g:?} vs {w}"
            );
        }
    }
    // Batching must not change a face's result.
    let single = clf
        .classify_tensor(input.slice(ndarray::s![1..2, .., .., ..]))
        .unwrap();
    for (a, b) in single[0].iter().zip(&got[1]) {
        assert!((a - b).abs() < 1e-5);
    }
}
