//! The benchmark's results: JSON structure, Markdown tables (with the paper's Table 2 beside
//! them) and the chart.

use std::path::Path;

use anyhow::Result;
use masked_fer::report::plot;
use serde::Serialize;

use super::measure::HeapPerFrame;

/// The paper's Table 2 (Intel i7-6700T, slim + RGC): classifications/s and integrated frames/s.
const PAPER_CLASSIFY_PER_S: f64 = 203.73;
const PAPER_INTEGRATED_FPS: f64 = 61.30;

#[derive(Serialize)]
pub struct Machine {
    pub cpu: String,
    pub logical_cores: usize,
    pub onnxruntime: &'static str,
}

#[derive(Serialize)]
pub struct ClassifyRow {
    pub model: String,
    pub file: String,
    pub weights: Option<u64>,
    /// Multiply-accumulates of one face at the model's input size, from the ONNX graph.
    pub macs: Option<u64>,
    pub input: String,
    pub threads: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub per_second: f64,
    pub batch8_ms_per_face: f64,
    pub batch8_faces_per_second: f64,
}

#[derive(Serialize)]
pub struct IntegratedRow {
    pub detector: String,
    pub model: String,
    pub threads: usize,
    pub photo: String,
    pub faces: usize,
    pub frames_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub decode_ms: f64,
    pub detect_ms: f64,
    pub classify_ms: f64,
}

/// Frames processed on every core at once (one pipeline with one intra-op thread per core).
#[derive(Serialize)]
pub struct ParallelRow {
    pub detector: String,
    pub photo: String,
    pub faces: usize,
    pub workers: usize,
    pub frames_per_second: f64,
    /// Against one worker with one thread, measured in the same run.
    pub speedup: f64,
}

#[derive(Serialize)]
pub struct HeapRow {
    pub detector: String,
    pub photo: String,
    pub faces: usize,
    #[serde(flatten)]
    pub heap: HeapPerFrame,
}

/// Raw frames of a panning camera through the frame core at one keyframe interval (shipped
/// model, default detector, one thread).
#[derive(Serialize)]
pub struct VideoRow {
    pub photo: String,
    pub keyframe_interval: u32,
    /// Faces reported per frame, on average.
    pub faces: f64,
    /// Share of frames that went through the full-frame detector.
    pub keyframe_share: f64,
    pub frames_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Against keyframe interval 1 on the same video, in the same run.
    pub speedup: f64,
}

#[derive(Serialize)]
pub struct Report {
    pub machine: Machine,
    pub seconds_per_figure: f64,
    pub classification: Vec<ClassifyRow>,
    pub integrated: Vec<IntegratedRow>,
    pub parallel: Vec<ParallelRow>,
    pub heap: Vec<HeapRow>,
    pub video: Vec<VideoRow>,
    pub not_measured: Vec<String>,
}

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "?".into(), f)
}

/// A Markdown table: the header's cells separated by " | ", then one row of cells per item.
fn table(header: &str, rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let columns = header.split(" | ").count();
    let mut s = format!("| {header} |\n");
    s.push_str(&line(&vec!["---".to_string(); columns]));
    for r in rows {
        s.push_str(&line(&r));
    }
    s
}

fn f(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

pub fn markdown(r: &Report) -> String {
    let mut s = format!(
        "Machine: {} ({} logical cores), ONNX Runtime {}; {} s of timed runs per figure.\n\n",
        r.machine.cpu, r.machine.logical_cores, r.machine.onnxruntime, r.seconds_per_figure
    );
    s.push_str("### Classification (a face crop from a 640x480 photo: crop, resize, normalise, infer, softmax)\n\n");
    s.push_str("MFLOPs = 2 x multiply-accumulates of Conv/Gemm/MatMul, counted on the ONNX graph at the model's input size.\n\n");
    s.push_str(&table(
        "model | weights | MFLOPs | input | threads | p50 ms | p99 ms | classifications/s | batch of 8: ms per face | batch of 8: faces/s",
        r.classification.iter().map(|c| {
            vec![
                c.model.clone(),
                opt(c.weights, |w| w.to_string()),
                opt(c.macs, |m| f(2.0 * m as f64 / 1e6, 1)),
                c.input.clone(),
                c.threads.to_string(),
                f(c.p50_ms, 3),
                f(c.p99_ms, 3),
                f(c.per_second, 0),
                f(c.batch8_ms_per_face, 3),
                f(c.batch8_faces_per_second, 0),
            ]
        }),
    ));
    s.push_str("\n### Integrated (640x480 JPEG frame: decode + detect + classify every face)\n\n");
    s.push_str(&table(
        "detector | model | threads | photo | faces | frames/s | p50 ms | p99 ms | decode ms | detect ms | classify ms",
        r.integrated.iter().map(|i| {
            vec![
                i.detector.clone(),
                i.model.clone(),
                i.threads.to_string(),
                i.photo.clone(),
                i.faces.to_string(),
                f(i.frames_per_second, 1),
                f(i.p50_ms, 2),
                f(i.p99_ms, 2),
                f(i.decode_ms, 2),
                f(i.detect_ms, 2),
                f(i.classify_ms, 2),
            ]
        }),
    ));
    if !r.parallel.is_empty() {
        s.push_str("\n### Integrated on every core (shipped default model; one pipeline with one thread per core, frames in parallel)\n\n");
        s.push_str(&table(
            "detector | photo | faces | workers | frames/s | speed-up over one worker",
            r.parallel.iter().map(|p| {
                vec![
                    p.detector.clone(),
                    p.photo.clone(),
                    p.faces.to_string(),
                    p.workers.to_string(),
                    f(p.frames_per_second, 1),
                    format!("{}x", f(p.speedup, 2)),
                ]
            }),
        ));
    }
    if !r.heap.is_empty() {
        s.push_str(
            "\n### Heap traffic per frame (shipped default model, 1 thread, after 20 warm-up frames)\n\n",
        );
        s.push_str("Rust allocations are counted by the binary's allocator; ONNX Runtime's own C++ allocations only show in the resident set size.\n\n");
        s.push_str(&table(
        "detector | photo | faces | frames | allocations/frame | KiB allocated/frame | live Rust heap growth, bytes | RSS growth, KiB",
            r.heap.iter().map(|h| {
                vec![
                    h.detector.clone(),
                    h.photo.clone(),
                    h.faces.to_string(),
                    h.heap.frames.to_string(),
                    f(h.heap.allocations_per_frame, 1),
                    f(h.heap.bytes_per_frame / 1024.0, 1),
                    h.heap.live_growth_bytes.to_string(),
                    (h.heap.rss_growth_bytes / 1024).to_string(),
                ]
            }),
        ));
    }
    if !r.video.is_empty() {
        s.push_str(
            "\n### Keyframe detection on video (RetinaFace 640x480, shipped model, 1 thread)\n\n",
        );
        s.push_str("Raw rgb8 640x480 frames of a camera panning 2 px a frame over the photo, through the frame core (convert, detect on keyframes or in regions around followed faces, classify, track); keyframe interval 1 = every frame through the full detector.\n\n");
        s.push_str(&table(
            "photo | keyframe interval | faces/frame | keyframes | frames/s | p50 ms | p99 ms | speed-up over interval 1",
            r.video.iter().map(|v| {
                vec![
                    v.photo.clone(),
                    v.keyframe_interval.to_string(),
                    f(v.faces, 2),
                    format!("{}%", f(100.0 * v.keyframe_share, 0)),
                    f(v.frames_per_second, 1),
                    f(v.p50_ms, 2),
                    f(v.p99_ms, 2),
                    format!("{}x", f(v.speedup, 2)),
                ]
            }),
        ));
    }
    s.push_str(
        "\n### The paper's Table 2 beside this run (shipped slim+RGC int8, 1 thread, one face)\n\n",
    );
    s.push_str("| figure | paper (i7-6700T) | this machine | ratio |\n|---|---|---|---|\n");
    if let Some(c) = r
        .classification
        .iter()
        .find(|c| c.model.contains("shipped") && c.threads == 1)
    {
        s.push_str(&format!(
            "| classifications/s | {PAPER_CLASSIFY_PER_S} | {:.0} | {:.1}x |\n",
            c.per_second,
            c.per_second / PAPER_CLASSIFY_PER_S
        ));
    }
    for i in r
        .integrated
        .iter()
        .filter(|i| i.model.contains("shipped") && i.threads == 1 && i.faces == 1)
    {
        s.push_str(&format!(
            "| integrated frames/s ({}, 1 face) | {PAPER_INTEGRATED_FPS} | {:.1} | {:.2}x |\n",
            i.detector,
            i.frames_per_second,
            i.frames_per_second / PAPER_INTEGRATED_FPS
        ));
    }
    // The first photo's video (the 1-face photo).
    let first = r.video.first().map(|v| v.photo.as_str());
    for v in r.video.iter().filter(|v| Some(v.photo.as_str()) == first) {
        s.push_str(&format!(
            "| integrated frames/s (video of {}: raw frames, keyframe interval {}) | {PAPER_INTEGRATED_FPS} | {:.1} | {:.2}x |\n",
            v.photo,
            v.keyframe_interval,
            v.frames_per_second,
            v.frames_per_second / PAPER_INTEGRATED_FPS
        ));
    }
    if !r.not_measured.is_empty() {
        s.push_str("\nNot measured in this run:\n");
        for m in &r.not_measured {
            s.push_str(&format!("- {m}\n"));
        }
    }
    s
}

pub fn chart(r: &Report, path: &Path) -> Result<()> {
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
    items.extend(r.video.iter().map(|v| {
        let label = format!(
            "video N={}: {} ({:.1} faces)",
            v.keyframe_interval, v.photo, v.faces
        );
        (label, v.frames_per_second)
    }));
    items.extend(r.parallel.iter().map(|p| {
        let label = format!(
            "{} x{}: {} ({} faces)",
            p.detector, p.workers, p.photo, p.faces
        );
        (label, p.frames_per_second)
    }));
    plot::bars(
        &items,
        "per second (classifications, 1 thread; integrated frames)",
        "per second",
        path,
    )?;
    Ok(())
}
