//! The library pipeline on real photos: every input path gives the same faces, and thresholds
//! change at run time without reloading models.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use masked_fer::config::PipelineConfig;
use masked_fer::perception::image::RawImage;
use masked_fer::perception::runtime::init_runtime;
use masked_fer::Pipeline;

#[test]
fn raw_compressed_and_rgb_inputs_agree_and_limits_apply_at_once() {
    init_runtime(None).expect("ONNX Runtime (make setup)");
    let mut p = Pipeline::new(PipelineConfig::default()).unwrap();
    let png = std::fs::read(common::data("parity/photo_71.png")).unwrap();
    let from_png = p.process_compressed("png", &png).unwrap();
    let rgb = masked_fer::perception::image::decode_compressed("", &png).unwrap();
    let (h, w, _) = rgb.dim();
    let bgr: Vec<u8> = rgb
        .iter()
        .copied()
        .collect::<Vec<_>>()
        .chunks(3)
        .flat_map(|c| [c[2], c[1], c[0]])
        .collect();
    let raw = RawImage {
        width: w as u32,
        height: h as u32,
        step: w as u32 * 3,
        encoding: "bgr8",
        is_bigendian: false,
        data: &bgr,
    };
    let from_raw = p.process_raw(&raw).unwrap();
    let from_rgb = p.process_rgb(rgb.view()).unwrap();
    assert!(from_png.faces.len() >= 4);
    for other in [&from_raw, &from_rgb] {
        assert_eq!(other.faces.len(), from_png.faces.len());
        for (a, b) in other.faces.iter().zip(&from_png.faces) {
            assert_eq!(a.bbox, b.bbox);
            assert_eq!(a.expression, b.expression);
        }
    }
    // Raise the score threshold above the weakest face: it disappears on the next frame.
    let weakest = from_png.faces.iter().map(|f| f.score).fold(1.0, f32::min);
    let mut limits = p.config().detector.clone();
    limits.score_threshold = weakest + 1e-3;
    p.set_detector_limits(&limits).unwrap();
    let fewer = p.process_rgb(rgb.view()).unwrap();
    assert!(fewer.faces.len() < from_png.faces.len());
    assert!(fewer.faces.iter().all(|f| f.score > weakest));
    limits.score_threshold = 2.0;
    assert!(
        p.set_detector_limits(&limits).is_err(),
        "an invalid threshold must be refused"
    );
    assert_eq!(p.config().detector.score_threshold, weakest + 1e-3);
}
