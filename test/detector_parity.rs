//! The Rust detectors against the independent numpy reference (test/reference/detect_reference.py,
//! output committed as test/data/detector_reference.json): same ONNX files, same photos (lossless
//! PNG copies in test/data/parity, so both sides decode identical pixels).
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use serde_json::Value;

const TOLERANCE_PX: f64 = 1.0;
/// Detections this close to the score threshold may fall on either side of it (tiny numeric
/// differences in resizing); they are allowed to be missing from one side.
const SCORE_SLACK: f64 = 0.02;

fn coords(face: &Value, key: &str) -> Vec<f64> {
    let v = &face[key];
    match key {
        "box" => v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect(),
        _ => v
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
            .collect(),
    }
}

fn max_diff(a: &Value, b: &Value) -> f64 {
    ["box", "landmarks"]
        .iter()
        .flat_map(|k| {
            coords(a, k)
                .into_iter()
                .zip(coords(b, k))
                .map(|(x, y)| (x - y).abs())
        })
        .fold(0.0, f64::max)
}

fn parity_images() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(common::data("parity"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "png"))
        .collect();
    v.sort();
    v
}

fn iou(a: &Value, b: &Value) -> f64 {
    let (a, b) = (coords(a, "box"), coords(b, "box"));
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
}

fn run(detector: &str, w: u32, h: u32, nms: bool) -> Vec<(String, (f64, f64), Vec<Value>)> {
    let size = format!("{w}x{h}");
    let mut args = vec![
        "detect",
        "--json",
        "--no-classify",
        "--detector",
        detector,
        "--input-size",
        &size,
        "--max-faces",
        "1000",
    ];
    if !nms {
        args.extend(["--nms-iou", "1.0"]);
    }
    let out = common::masked_fer_paths(&args, &parity_images());
    common::stdout_json_lines(&out)
        .into_iter()
        .map(|l| {
            (
                common::file_name(l["image"].as_str().unwrap()),
                (l["width"].as_f64().unwrap(), l["height"].as_f64().unwrap()),
                l["faces"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

fn reference(detector: &str, w: u32, nms: bool, image: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(
        &std::fs::read_to_string(common::data("detector_reference.json")).unwrap(),
    )
    .unwrap();
    let case = all["cases"].as_array().unwrap().iter().find(|c| {
        c["detector"] == detector && c["input"][0] == w && c["nms"] == nms && c["image"] == image
    });
    case.unwrap_or_else(|| panic!("no reference for {detector} {w} nms={nms} {image}"))["faces"]
        .as_array()
        .unwrap()
        .clone()
}

fn closest(f: &Value, among: &[Value]) -> f64 {
    among
        .iter()
        .map(|o| max_diff(f, o))
        .fold(f64::INFINITY, f64::min)
}

/// One pixel of the coarser grid, in source pixels: the two resizers round to 8 bits by one level
/// differently, so where the network input is smaller than the photo (a scale below 1) the
/// agreement is 1 network-input pixel. Images already at the input size are not resized at all.
fn tolerance(width: f64, height: f64, w: u32, h: u32) -> f64 {
    let scale = (f64::from(w) / width).min(f64::from(h) / height);
    TOLERANCE_PX.max(1.0 / scale)
}

/// Compare one detector configuration on every parity image.
/// - Before NMS (every candidate above the threshold): each candidate's box and landmarks agree
///   within the tolerance.
/// - After NMS: the same faces are found (IoU >= 0.7), and each final face lies within the
///   tolerance of a final face or a candidate of the other side (with greedy NMS, near-tied
///   candidates may win on either side; weighted NMS averages candidates).
fn compare(detector: &str, w: u32, h: u32, threshold: f64) {
    let near_threshold = |f: &Value| f["score"].as_f64().unwrap() < threshold + SCORE_SLACK;
    let raw_ours = run(detector, w, h, false);
    let final_ours = run(detector, w, h, true);
    let mut exact = 0;
    for ((image, size, ours_raw), (_, _, ours)) in raw_ours.iter().zip(&final_ours) {
        let tol = tolerance(size.0, size.1, w, h);
        let theirs_raw = reference(detector, w, false, image);
        let theirs = reference(detector, w, true, image);
        let mut worst: f64 = 0.0;
        for f in &theirs_raw {
            let d = closest(f, ours_raw);
            assert!(d <= tol || near_threshold(f), "{detector} {w}x{h} {image}: candidate {f} unmatched (closest {d:.2} px, tolerance {tol:.2})");
            worst = worst.max(if d <= tol { d } else { 0.0 });
        }
        for o in ours_raw {
            assert!(
                closest(o, &theirs_raw) <= tol || near_threshold(o),
                "{detector} {w}x{h} {image}: extra candidate {o}"
            );
        }
        for f in &theirs {
            assert!(
                ours.iter().any(|o| iou(f, o) >= 0.7) || near_threshold(f),
                "{detector} {w}x{h} {image}: reference face {f} not found"
            );
            let d = closest(f, ours).min(closest(f, ours_raw));
            assert!(d <= tol || near_threshold(f), "{detector} {w}x{h} {image}: reference face {f} is {d:.2} px from our faces and candidates");
        }
        for o in ours {
            assert!(
                theirs.iter().any(|f| iou(f, o) >= 0.7) || near_threshold(o),
                "{detector} {w}x{h} {image}: extra face {o}"
            );
            let d = closest(o, &theirs).min(closest(o, &theirs_raw));
            assert!(d <= tol || near_threshold(o), "{detector} {w}x{h} {image}: face {o} is {d:.2} px from the reference faces and candidates");
        }
        if tol == TOLERANCE_PX && !theirs_raw.is_empty() {
            exact += 1;
        }
        eprintln!("{detector} {w}x{h} {image}: {} candidates, {} faces, worst {worst:.3} px (tolerance {tol:.2})", theirs_raw.len(), theirs.len());
    }
    assert!(
        exact >= 1,
        "{detector} {w}x{h}: no image was compared at the strict 1 px tolerance"
    );
}
#[test]
fn retinaface_320x240_matches_numpy_reference() {
    compare("retinaface", 320, 240, 0.6);
}

#[test]
fn retinaface_640x480_matches_numpy_reference() {
    compare("retinaface", 640, 480, 0.6);
}

#[test]
fn blazeface_matches_numpy_reference() {
    compare("blazeface", 128, 128, 0.5);
}
