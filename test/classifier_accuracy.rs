//! The default expression model through the Rust preprocessing (JPEG decode, square crop, resize,
//! grey, normalise: the pipeline's path) scores on the clean FER2013 validation faces what
//! training/ measured in Python for the same file. A mismatch means the two sides feed the model
//! differently, which would make every published accuracy wrong for the product.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use masked_fer::perception::models::DEFAULT_CLASSIFIER;

/// The training report of the shipped default model (`report --onnx ...`); replaced with it.
const PYTHON_REPORT: &str = "training/results/ft_families_bal_int8/metrics.json";

#[test]
fn default_classifier_scores_what_training_measured() {
    let Some(fer) = common::outside_dataset(
        "default_classifier_scores_what_training_measured",
        "fer2013",
        "val",
    ) else {
        return;
    };
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(common::repo().join(PYTHON_REPORT)).unwrap())
            .unwrap();
    assert!(
        report["onnx"]
            .as_str()
            .unwrap()
            .ends_with(DEFAULT_CLASSIFIER),
        "{PYTHON_REPORT} is not the report of the default model {DEFAULT_CLASSIFIER}"
    );
    let plot = tempfile::tempdir().unwrap();
    let png = plot.path().join("confusion.png");
    let out = common::masked_fer(&[
        "eval-classifier",
        "--json",
        fer.join("val").to_str().unwrap(),
        "--exclude",
        fer.join("val_duplicates_of_train.txt").to_str().unwrap(),
        "--confusion",
        png.to_str().unwrap(),
    ]);
    let v = &common::stdout_json_lines(&out)[0];
    // FER2013 PublicTest minus its 280 duplicates of training images, as in training/.
    assert_eq!(v["faces"], 3309);
    assert_eq!(v["excluded"], 280);
    let confusion: usize = v["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|n| n.as_u64().unwrap() as usize)
        .sum();
    assert_eq!(confusion, 3309);
    let rust = v["accuracy"].as_f64().unwrap();
    let python = report["clean"]["accuracy"].as_f64().unwrap();
    eprintln!("clean accuracy: Rust {rust:.4}, Python {python:.4}");
    // Two JPEG decoders and two bilinear resamplers: a few faces near a decision boundary may
    // flip, not more (20 faces = 0.6 points).
    assert!(
        (rust - python).abs() <= 0.006,
        "Rust {rust} vs Python {python}"
    );
    assert!(image::open(&png).unwrap().width() > 0);
}
