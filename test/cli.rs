//! The `masked_fer` binary end to end: real photos in, faces and expressions out; bad files,
//! models and runtimes give one clear line and never lose the good images.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use std::path::PathBuf;

#[test]
fn detect_prints_faces_with_expressions_and_annotates() {
    let dir = tempfile::tempdir().unwrap();
    let images = common::demo_images();
    let out = common::masked_fer_paths(
        &["detect", "--annotate", dir.path().to_str().unwrap()],
        &images,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let labels = [
        "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
    ];
    let faces: Vec<&str> = text.lines().filter(|l| l.contains("\tface ")).collect();
    assert!(faces.len() >= 15, "{text}");
    for l in &faces {
        assert!(
            labels.iter().any(|w| l.contains(&format!("\t{w} "))),
            "no expression in {l:?}"
        );
    }
    for img in &images {
        let png = dir
            .path()
            .join(img.file_stem().unwrap())
            .with_extension("png");
        let annotated = image::open(&png).unwrap().into_rgb8();
        let original = image::open(img).unwrap().into_rgb8();
        assert_eq!(annotated.dimensions(), original.dimensions());
        assert_ne!(
            annotated.as_raw(),
            original.as_raw(),
            "{} has nothing drawn",
            png.display()
        );
    }
}

#[test]
fn json_output_has_boxes_landmarks_and_probabilities() {
    let img = common::data("images/maksssksksss4.jpg");
    let lines = common::stdout_json_lines(&common::masked_fer_paths(&["detect", "--json"], &[img]));
    let face = &lines[0]["faces"][0];
    let (w, h) = image::image_dimensions(common::data("images/maksssksksss4.jpg")).unwrap();
    assert_eq!(
        (lines[0]["width"].as_u64(), lines[0]["height"].as_u64()),
        (Some(u64::from(w)), Some(u64::from(h)))
    );
    assert_eq!(face["landmarks"].as_array().unwrap().len(), 5);
    let probs = face["probabilities"].as_object().unwrap();
    assert_eq!(probs.len(), 7);
    let sum: f64 = probs.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-4);
    assert_eq!(
        probs[face["expression"].as_str().unwrap()]
            .as_f64()
            .unwrap(),
        face["confidence"].as_f64().unwrap()
    );
    // Mirror averaging changes the probabilities of the same face; they still sum to one.
    let flipped = common::stdout_json_lines(&common::masked_fer_paths(
        &["detect", "--json", "--flip-average"],
        &[common::data("images/maksssksksss4.jpg")],
    ));
    let fprobs = flipped[0]["faces"][0]["probabilities"].as_object().unwrap();
    let fsum: f64 = fprobs.values().map(|v| v.as_f64().unwrap()).sum();
    assert!((fsum - 1.0).abs() < 1e-4);
    let change: f64 = probs
        .iter()
        .map(|(k, v)| (v.as_f64().unwrap() - fprobs[k].as_f64().unwrap()).abs())
        .sum();
    assert!(change > 1e-3, "--flip-average changed nothing");
}

#[test]
fn bad_image_files_are_reported_and_the_good_ones_still_processed() {
    let dir = tempfile::tempdir().unwrap();
    let good = common::data("images/maksssksksss4.jpg");
    let bytes = std::fs::read(&good).unwrap();
    let write = |name: &str, data: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        p
    };
    let mut corrupt = bytes.clone();
    corrupt[600..4000].fill(0);
    let bad = vec![
        write("truncated.jpg", &bytes[..bytes.len() / 4]),
        write("corrupt.jpg", &corrupt),
        write("empty.jpg", &[]),
        write("text.png", b"this is not an image"),
        dir.path().join("missing.jpg"),
    ];
    let mut all = vec![good.clone()];
    all.extend(bad.iter().cloned());
    let out = common::masked_fer_paths(&["detect"], &all);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("maksssksksss4.jpg\tface 1/1"), "{stdout}");
    for p in &bad {
        let name = p.file_name().unwrap().to_string_lossy();
        assert_eq!(
            stderr.lines().filter(|l| l.contains(&*name)).count(),
            1,
            "{name}: {stderr}"
        );
    }
    assert!(
        stderr.contains(&format!("{} of 6 images failed", bad.len())),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

fn one_line_error(args: &[&str]) -> String {
    let img = common::data("images/maksssksksss4.jpg");
    failure_line(common::masked_fer_paths(args, &[img]))
}

/// Exit status 2 and one line on stderr, no panic.
fn failure_line(out: std::process::Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"));
    err
}

#[test]
fn missing_runtime_names_the_path_and_the_setup_command() {
    let err = one_line_error(&["--ort-lib", "/nonexistent/libonnxruntime.so", "detect"]);
    assert!(
        err.contains("/nonexistent/libonnxruntime.so") && err.contains("make setup"),
        "{err}"
    );
}

#[test]
fn wrong_or_missing_models_name_the_file() {
    let detector = common::repo().join("models/retinaface_mnet025.onnx");
    let err = one_line_error(&["detect", "--classifier", detector.to_str().unwrap()]);
    assert!(
        err.contains("retinaface_mnet025.onnx") && err.contains("labels"),
        "{err}"
    );
    let err = one_line_error(&["detect", "--classifier", "/nonexistent/model.onnx"]);
    assert!(err.contains("/nonexistent/model.onnx"), "{err}");
    let classifier = common::repo().join("models/slim_rgc_masked_fer.onnx");
    let err = one_line_error(&["detect", "--detector-model", classifier.to_str().unwrap()]);
    assert!(
        err.contains("slim_rgc_masked_fer.onnx") && err.contains("RetinaFace"),
        "{err}"
    );
    let garbage = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(garbage.path(), b"not onnx").unwrap();
    let err = one_line_error(&["detect", "--classifier", garbage.path().to_str().unwrap()]);
    assert!(err.contains(&*garbage.path().to_string_lossy()), "{err}");
}

#[test]
fn eval_classifier_names_the_bad_folder_or_image() {
    let eval = |dir: &std::path::Path| {
        failure_line(common::masked_fer(&[
            "eval-classifier",
            dir.to_str().unwrap(),
        ]))
    };
    let d = tempfile::tempdir().unwrap();
    let happy = d.path().join("happy");
    std::fs::create_dir(&happy).unwrap();
    std::fs::copy(
        common::data("images/maksssksksss4.jpg"),
        happy.join("face.jpg"),
    )
    .unwrap();
    std::fs::create_dir(d.path().join("contempt")).unwrap();
    assert!(eval(d.path()).contains("\"contempt\""));
    std::fs::remove_dir(d.path().join("contempt")).unwrap();
    let jpeg = std::fs::read(happy.join("face.jpg")).unwrap();
    std::fs::write(happy.join("cut.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    assert!(eval(d.path()).contains("cut.jpg"));
    assert!(eval(&d.path().join("nowhere")).contains("nowhere"));
}

#[test]
fn bad_settings_are_refused_with_the_parameter_named() {
    assert!(one_line_error(&["detect", "--score-threshold", "1.5"]).contains("score_threshold"));
    assert!(one_line_error(&[
        "detect",
        "--detector",
        "blazeface",
        "--input-size",
        "320x240"
    ])
    .contains("128x128"));
    let params = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        params.path(),
        "masked_fer:\n  ros__parameters:\n    detector:\n      nms_iuo: 0.3\n",
    )
    .unwrap();
    let err = one_line_error(&["--params", params.path().to_str().unwrap(), "detect"]);
    assert!(err.contains("nms_iuo"), "{err}");
}

#[test]
fn params_file_selects_the_detector() {
    let params = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(params.path(), "masked_fer:\n  ros__parameters:\n    image_topics: [/camera/image_raw]\n    detector:\n      kind: blazeface\n      input_width: 128\n      input_height: 128\n").unwrap();
    let img: PathBuf = common::data("images/maksssksksss4.jpg");
    let lines = common::stdout_json_lines(&common::masked_fer_paths(
        &[
            "--params",
            params.path().to_str().unwrap(),
            "detect",
            "--json",
            "--no-classify",
        ],
        &[img],
    ));
    let b = lines[0]["faces"][0]["box"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect::<Vec<_>>();
    // BlazeFace's box for this face differs from RetinaFace's (62,172,170,302): a square one.
    assert!(((b[2] - b[0]) - (b[3] - b[1])).abs() < 12.0, "{b:?}");
}

#[test]
fn help_explains_every_flag() {
    let out = common::masked_fer(&["detect", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--json",
        "--annotate",
        "--detector",
        "--input-size",
        "--score-threshold",
        "--nms-iou",
        "--min-face-size",
        "--max-faces",
        "--classifier",
        "--no-classify",
        "--flip-average",
        "--ort-lib",
        "--models-dir",
        "--params",
        "--threads",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn shipped_params_file_loads_and_equals_the_defaults() {
    let params = common::repo().join("params/default.yaml");
    let p = masked_fer::params::NodeParams::from_file(&params, Some("masked_fer")).unwrap();
    assert_eq!(p, masked_fer::params::NodeParams::default());
}

#[test]
fn bench_measures_every_model_and_detector_and_writes_a_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::masked_fer(&[
        "bench",
        "--seconds",
        "0.02",
        "--thread-counts",
        "1",
        "--json",
        "--report",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let shipped = &r["classification"][0];
    assert_eq!(shipped["model"], "slim+RGC int8 (shipped default)");
    assert!(shipped["per_second"].as_f64().unwrap() > 0.0);
    assert!(shipped["p99_ms"].as_f64().unwrap() >= shipped["p50_ms"].as_f64().unwrap());
    assert!(shipped["weights"].as_u64().unwrap() > 500_000);
    // Counted on the ONNX graph: ~10.8 M multiply-accumulates per 48x48 face, ~19.3 M at 64x64.
    let macs = shipped["macs"].as_u64().unwrap();
    assert!((10_000_000..20_000_000).contains(&macs), "{macs}");
    let faces: Vec<u64> = r["integrated"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            i["model"] == "slim+RGC int8 (shipped default)" && i["detector"] == "retinaface 640x480"
        })
        .map(|i| i["faces"].as_u64().unwrap())
        .collect();
    assert_eq!(faces, [1, 3, 6], "the bundled frames hold 1, 3 and 6 faces");
    // The hot path does not grow the heap: every frame frees what it allocates.
    let heap = r["heap"].as_array().unwrap();
    assert_eq!(heap.len(), 9, "3 detector settings x 3 photos");
    for h in heap {
        assert_eq!(h["live_growth_bytes"], 0, "{h}");
        assert!(h["allocations_per_frame"].as_f64().unwrap() > 0.0, "{h}");
    }
    // Video through the frame core: interval 1 detects every frame in full, 10 mostly regions.
    let video = r["video"].as_array().unwrap();
    assert_eq!(video.len(), 12, "3 photos x intervals 1, 3, 5, 10");
    for v in video {
        let share = v["keyframe_share"].as_f64().unwrap();
        match v["keyframe_interval"].as_u64().unwrap() {
            1 => assert_eq!(share, 1.0, "{v}"),
            10 => assert!(share < 0.5, "{v}"),
            _ => {}
        }
        assert!(v["faces"].as_f64().unwrap() >= 1.0, "{v}");
    }
    for f in ["bench.md", "bench.json", "bench.png"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let md = std::fs::read_to_string(dir.path().join("bench.md")).unwrap();
    assert!(md.contains("| classifications/s | 203.73 |"), "{md}");
    let bad = common::masked_fer(&["bench", "--thread-counts", "0"]);
    assert_eq!(bad.status.code(), Some(2));
}
