//! `masked_fer detect IMAGE...`

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use masked_fer::tracking::annotate::draw_faces;
use masked_fer::{FrameResult, Pipeline};
use serde_json::json;

use crate::options::{Global, ModelArgs};

#[derive(ClapArgs)]
pub struct Args {
    /// Image files (JPEG or PNG). Each face prints one line: file, face index, box
    /// x0,y0,x1,y1 in pixels, detector score, expression and its probability.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    /// Print one JSON object per image instead (box, landmarks, all class probabilities).
    #[arg(long)]
    json: bool,
    /// Write a copy of each image with boxes, landmarks and labels drawn into DIR (as PNG).
    #[arg(long, value_name = "DIR")]
    annotate: Option<PathBuf>,
    #[command(flatten)]
    models: ModelArgs,
}

pub fn run(global: &Global, args: Args) -> Result<i32> {
    let mut pipeline = args.models.pipeline(global)?;
    if let Some(dir) = &args.annotate {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating annotation directory {}", dir.display()))?;
    }
    let bar = if args.images.len() > 3 {
        ProgressBar::new(args.images.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} images  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut failed = 0;
    let stdout = std::io::stdout();
    for path in &args.images {
        match process(&mut pipeline, path, args.annotate.as_deref()) {
            Ok(result) => {
                let text = if args.json {
                    json_line(&pipeline, path, &result)
                } else {
                    text_lines(path, &result)
                };
                bar.suspend(|| {
                    let mut out = stdout.lock();
                    let _ = out.write_all(text.as_bytes());
                });
            }
            Err(e) => {
                failed += 1;
                bar.suspend(|| eprintln!("masked_fer: {}: {e:#}", path.display()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if failed > 0 {
        eprintln!(
            "masked_fer: {failed} of {} images failed",
            args.images.len()
        );
        return Ok(1);
    }
    Ok(0)
}

fn process(pipeline: &mut Pipeline, path: &Path, annotate: Option<&Path>) -> Result<FrameResult> {
    let bytes = std::fs::read(path).context("reading")?;
    let result = pipeline.process_compressed("", &bytes)?;
    log::info!(
        "{}: {} faces, decode {:.1} ms, detect {:.1} ms, classify {:.1} ms",
        path.display(),
        result.faces.len(),
        result.times.decode.as_secs_f64() * 1e3,
        result.times.detect.as_secs_f64() * 1e3,
        result.times.classify.as_secs_f64() * 1e3
    );
    if let Some(dir) = annotate {
        let mut img = image::load_from_memory(&bytes)
            .context("decoding for annotation")?
            .into_rgb8();
        draw_faces(&mut img, &result.faces);
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".into());
        let out = dir.join(format!("{name}.png"));
        img.save(&out)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    Ok(result)
}

fn text_lines(path: &Path, r: &FrameResult) -> String {
    if r.faces.is_empty() {
        return format!("{}\tno face\n", path.display());
    }
    let n = r.faces.len();
    r.faces
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let b = &f.bbox;
            let expr = if f.expression.is_empty() {
                String::new()
            } else {
                format!("\t{} {:.2}", f.expression, f.confidence)
            };
            format!(
                "{}\tface {}/{n}\tbox {:.0},{:.0},{:.0},{:.0}\tscore {:.2}{expr}\n",
                path.display(),
                i + 1,
                b.x0,
                b.y0,
                b.x1,
                b.y1,
                f.score
            )
        })
        .collect()
}

fn json_line(pipeline: &Pipeline, path: &Path, r: &FrameResult) -> String {
    let labels = pipeline.labels();
    let faces: Vec<_> = r
        .faces
        .iter()
        .map(|f| {
            let probs: serde_json::Map<String, serde_json::Value> = labels
                .iter()
                .cloned()
                .zip(f.probabilities.iter().map(|&p| json!(p)))
                .collect();
            json!({
                "box": [f.bbox.x0, f.bbox.y0, f.bbox.x1, f.bbox.y1],
                "score": f.score,
                "landmarks": f.landmarks,
                "expression": f.expression,
                "confidence": f.confidence,
                "probabilities": probs,
            })
        })
        .collect();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let doc = json!({
        "image": path.display().to_string(),
        "width": r.width,
        "height": r.height,
        "faces": faces,
        "ms": {"decode": ms(r.times.decode), "detect": ms(r.times.detect), "classify": ms(r.times.classify)},
    });
    format!("{doc}\n")
}
