//! `masked_fer eval-detector`: recall/precision of a detector on Pascal VOC face boxes.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use masked_fer::report::eval::{parse_voc, DetectionScore};

use crate::options::{Global, ModelArgs};

#[derive(ClapArgs)]
pub struct Args {
    /// Data set directory with `annotations/*.xml` (Pascal VOC) and `images/` (e.g.
    /// ../shared/datasets/face_mask).
    #[arg(value_name = "DIR")]
    dataset: PathBuf,
    /// IoU at which a detection matches an annotated face.
    #[arg(long, default_value_t = 0.5)]
    iou: f32,
    /// Print the scores as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    models: ModelArgs,
}

pub fn run(global: &Global, mut args: Args) -> Result<i32> {
    args.models.no_classify = true;
    let mut pipeline = args.models.pipeline(global)?;
    let ann_dir = args.dataset.join("annotations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&ann_dir)
        .with_context(|| format!("reading {}", ann_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .collect();
    files.sort();
    anyhow::ensure!(
        !files.is_empty(),
        "no .xml annotations in {}",
        ann_dir.display()
    );
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} images  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut score = DetectionScore::default();
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let voc = parse_voc(&text).with_context(|| format!("parsing {}", f.display()))?;
        let img_path = args.dataset.join("images").join(&voc.filename);
        let bytes =
            std::fs::read(&img_path).with_context(|| format!("reading {}", img_path.display()))?;
        let rgb = masked_fer::perception::image::decode_compressed("", &bytes)
            .with_context(|| img_path.display().to_string())?;
        let t = Instant::now();
        let r = pipeline
            .process_rgb(rgb.view())
            .with_context(|| img_path.display().to_string())?;
        score.seconds += t.elapsed().as_secs_f64();
        let truth: Vec<_> = voc.boxes.iter().map(|b| b.0).collect();
        let found: Vec<_> = r
            .faces
            .iter()
            .map(|f| masked_fer::perception::detect::Detection {
                bbox: f.bbox,
                score: f.score,
                landmarks: f.landmarks,
            })
            .collect();
        score.add(&truth, &found, args.iou);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let d = &pipeline.config().detector;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"detector": d.kind.name(), "input": [d.input_width, d.input_height], "score_threshold": d.score_threshold, "score": score, "recall": score.recall(), "recall_ge20": score.recall_ge20(), "recall_ge32": score.recall_ge32(), "precision": score.precision(), "ms_per_image": score.ms_per_image()})
        );
    } else {
        println!("| detector | input | recall (all {}) | recall >= 20 px ({}) | recall >= 32 px ({}) | precision | ms/image |", score.boxes, score.boxes_ge20, score.boxes_ge32);
        println!("|---|---|---|---|---|---|---|");
        println!(
            "| {} | {}x{} | {:.3} | {:.3} | {:.3} | {:.3} ({} / {}) | {:.1} |",
            d.kind.name(),
            d.input_width,
            d.input_height,
            score.recall(),
            score.recall_ge20(),
            score.recall_ge32(),
            score.precision(),
            score.true_positives,
            score.detections,
            score.ms_per_image()
        );
    }
    Ok(0)
}
