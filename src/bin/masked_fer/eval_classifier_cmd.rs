//! `masked_fer eval-classifier`: accuracy of the expression model on labelled face crops, through
//! the same preprocessing as the pipeline (so its figures can be set against training/'s).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use masked_fer::perception::pipeline::open_classifier;
use masked_fer::perception::runtime::init_runtime;
use masked_fer::report::eval::list_labelled_faces;
use masked_fer::report::labels::LabelScore;

use crate::options::{Global, ModelArgs};

/// Faces per ONNX Runtime call.
const BATCH: usize = 64;

#[derive(ClapArgs)]
pub struct Args {
    /// Face crops in one folder per class, named with the model's labels (FER names such as
    /// angry, ..., surprise, or ROS4HRI words), e.g. ../shared/datasets/fer2013/val. Each image is
    /// one face, used whole (padded to a square, no crop margin): no face detection.
    #[arg(value_name = "DIR")]
    dataset: PathBuf,
    /// File listing images to leave out, one per line; only the file name counts (e.g.
    /// ../shared/datasets/fer2013/val_duplicates_of_train.txt).
    #[arg(long, value_name = "FILE")]
    exclude: Option<PathBuf>,
    /// Expression model ONNX file [default: models/slim_rgc_masked_fer_int8.onnx].
    #[arg(long, value_name = "FILE")]
    classifier: Option<PathBuf>,
    /// Classify each face and its mirror image and average the two.
    #[arg(long)]
    flip_average: bool,
    /// Print the score as JSON (accuracy, per-class recall, confusion matrix).
    #[arg(long)]
    json: bool,
    /// Also draw the confusion matrix into this PNG file.
    #[arg(long, value_name = "PNG")]
    confusion: Option<PathBuf>,
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let cfg = ModelArgs {
        classifier: args.classifier.clone(),
        flip_average: args.flip_average,
        ..ModelArgs::default()
    }
    .config(global)?;
    init_runtime(global.ort_lib.as_deref())?;
    let mut classifier = open_classifier(&cfg)?;
    let labels = classifier.contract().labels.clone();
    let exclude: BTreeSet<String> = match &args.exclude {
        Some(f) => std::fs::read_to_string(f)
            .with_context(|| format!("reading {}", f.display()))?
            .lines()
            .filter_map(|l| l.trim().rsplit('/').next())
            .filter(|n| !n.is_empty())
            .map(String::from)
            .collect(),
        None => BTreeSet::new(),
    };
    let set = list_labelled_faces(&args.dataset, &labels, &exclude)?;

    let bar = ProgressBar::new(set.faces.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} faces  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let k = labels.len();
    let mut confusion = vec![vec![0usize; k]; k];
    let mut seconds = 0.0;
    for chunk in set.faces.chunks(BATCH) {
        let images = chunk
            .iter()
            .map(|f| {
                let bytes = std::fs::read(&f.path)
                    .with_context(|| format!("reading {}", f.path.display()))?;
                masked_fer::perception::image::decode_compressed("", &bytes)
                    .with_context(|| f.path.display().to_string())
            })
            .collect::<Result<Vec<_>>>()?;
        let views: Vec<_> = images.iter().map(|i| i.view()).collect();
        let t = Instant::now();
        let probs = classifier
            .classify_crops(&views)
            .with_context(|| format!("classifying {}", chunk[0].path.display()))?;
        seconds += t.elapsed().as_secs_f64();
        for (face, p) in chunk.iter().zip(&probs) {
            let predicted = (0..k).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(0);
            confusion[face.class][predicted] += 1;
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let score = LabelScore::from_confusion(confusion, &labels);
    let model = classifier.model_path().display().to_string();
    let ms_per_face = 1e3 * seconds / score.labels.max(1) as f64;
    if let Some(png) = &args.confusion {
        let title = format!("{} faces, accuracy {:.3}", score.labels, score.accuracy);
        masked_fer::report::plot::confusion_matrix(&score.confusion, &labels, &title, png)
            .with_context(|| format!("writing {}", png.display()))?;
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"model": model, "flip_average": args.flip_average, "dataset": args.dataset, "faces": score.labels, "excluded": set.excluded, "labels": labels, "accuracy": score.accuracy, "recall": score.recall, "confusion": score.confusion, "ms_per_face": ms_per_face})
        );
        return Ok(0);
    }
    println!(
        "{model}{}: {} faces from {} ({} excluded), accuracy {:.4} ({} correct), {ms_per_face:.3} ms per face",
        if args.flip_average { " with mirror averaging" } else { "" },
        score.labels,
        args.dataset.display(),
        set.excluded,
        score.accuracy,
        score.correct,
    );
    println!();
    println!(
        "| labelled \\ predicted | {} | recall |",
        labels.join(" | ")
    );
    println!("|---|{}---|", "---|".repeat(k));
    for ((name, recall), row) in score.recall.iter().zip(&score.confusion) {
        let cells: Vec<String> = row.iter().map(usize::to_string).collect();
        let recall = recall.map_or("-".into(), |r| format!("{r:.3}"));
        println!("| {name} | {} | {recall} |", cells.join(" | "));
    }
    Ok(0)
}
