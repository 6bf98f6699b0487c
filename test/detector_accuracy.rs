//! Regression floor for the default detector on real masked photos
//! (test/data/face_mask, CC0: 100 photos, 475 annotated faces). The floors are the figures
//! measured when the default was chosen (models/README.md), rounded down; this is not a timing.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

#[test]
fn default_detector_keeps_its_measured_recall_and_precision() {
    let dataset = common::data("face_mask");
    let out = common::masked_fer(&["eval-detector", "--json", dataset.to_str().unwrap()]);
    let v = &common::stdout_json_lines(&out)[0];
    assert_eq!(v["detector"], "retinaface");
    assert_eq!(v["score"]["boxes"], 475);
    let get = |k: &str| v[k].as_f64().unwrap();
    eprintln!(
        "recall {:.3}, >=20 px {:.3}, >=32 px {:.3}, precision {:.3}",
        get("recall"),
        get("recall_ge20"),
        get("recall_ge32"),
        get("precision")
    );
    assert!(
        get("recall_ge20") >= 0.88,
        "recall (faces >= 20 px) fell to {}",
        get("recall_ge20")
    );
    assert!(
        get("recall_ge32") >= 0.90,
        "recall (faces >= 32 px) fell to {}",
        get("recall_ge32")
    );
    assert!(
        get("recall") >= 0.68,
        "recall (all faces) fell to {}",
        get("recall")
    );
    assert!(
        get("precision") >= 0.83,
        "precision fell to {}",
        get("precision")
    );
}
