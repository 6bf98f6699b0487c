//! PNG charts for reports (plotters drawing into a buffer, encoded by `image`): latency
//! histogram, class distribution, expression timeline per track. Text uses the bundled font.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const W: u32 = 800;
const H: u32 = 420;

/// What a chart's drawing code fails with (plotters' and image's errors).
type DrawError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
#[error("cannot draw {path}")]
pub struct PlotError {
    path: String,
    #[source]
    source: DrawError,
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled font parses (checked by the annotate tests); a failure only loses text.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            crate::tracking::annotate::FONT_BYTES,
        );
    });
}

/// Draw with `f` on a white W x H canvas and save it as PNG.
fn render(
    path: &Path,
    f: impl FnOnce(&DrawingArea<BitMapBackend, plotters::coord::Shift>) -> Result<(), DrawError>,
) -> Result<(), PlotError> {
    register_font();
    let draw = || -> Result<(), DrawError> {
        let mut buf = vec![255u8; (W * H * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, (W, H)).into_drawing_area();
            root.fill(&WHITE)?;
            f(&root)?;
            root.present()?;
        }
        let img = image::RgbImage::from_raw(W, H, buf).ok_or("canvas buffer size")?;
        Ok(img.save(path)?)
    };
    draw().map_err(|source| PlotError {
        path: path.display().to_string(),
        source,
    })
}

/// Every chart's frame: title, margin, axis label areas (`y_area` wide for the y labels).
fn chart_builder<'a, 'b>(
    root: &'a DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    title: &str,
    y_area: u32,
) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(y_area);
    b
}

/// Histogram of per-frame latencies (ms).
pub fn latency_histogram(ms: &[f64], title: &str, path: &Path) -> Result<(), PlotError> {
    let max = ms.iter().copied().fold(1.0, f64::max) * 1.05;
    let bins = 40usize;
    let width = max / bins as f64;
    let mut counts = vec![0u32; bins];
    for &v in ms {
        counts[((v / width) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1) + 1;
    render(path, |root| {
        let mut chart = chart_builder(root, title, 48).build_cartesian_2d(0.0..max, 0u32..top)?;
        chart
            .configure_mesh()
            .x_desc("ms per frame (decode + detect + classify)")
            .y_desc("frames")
            .draw()?;
        chart.draw_series(counts.iter().enumerate().map(|(i, &c)| {
            Rectangle::new(
                [(i as f64 * width, 0), ((i + 1) as f64 * width, c)],
                RGBColor(40, 110, 230).filled(),
            )
        }))?;
        Ok(())
    })
}

/// Horizontal bars, one per (label, value), top to bottom; the value is written beside each bar.
pub fn bars(
    items: &[(String, f64)],
    title: &str,
    x_desc: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let max = items.iter().map(|i| i.1).fold(1.0, f64::max) * 1.18;
    let n = items.len().max(1);
    render(path, |root| {
        let mut chart = chart_builder(root, title, 300)
            .build_cartesian_2d(0.0..max, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => n
                    .checked_sub(1 + *i)
                    .and_then(|k| items.get(k))
                    .map(|x| x.0.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc(x_desc)
            .disable_y_mesh()
            .draw()?;
        chart.draw_series(items.iter().enumerate().map(|(k, (_, v))| {
            let i = n - 1 - k;
            Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (*v, SegmentValue::Exact(i + 1)),
                ],
                RGBColor(40, 110, 230).filled(),
            )
        }))?;
        chart.draw_series(items.iter().enumerate().map(|(k, (_, v))| {
            Text::new(
                format!("{v:.0}"),
                (*v + max * 0.01, SegmentValue::CenterOf(n - 1 - k)),
                ("sans-serif", 13),
            )
        }))?;
        Ok(())
    })
}

/// Bar chart of counts per class, in `labels` order.
pub fn class_distribution(
    counts: &BTreeMap<String, usize>,
    labels: &[String],
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let top = labels
        .iter()
        .map(|l| counts.get(l).copied().unwrap_or(0))
        .max()
        .unwrap_or(0) as u32
        + 1;
    render(path, |root| {
        let mut chart = chart_builder(root, title, 48)
            .build_cartesian_2d((0..labels.len()).into_segmented(), 0u32..top)?;
        chart
            .configure_mesh()
            .x_labels(labels.len())
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_desc("faces")
            .draw()?;
        chart.draw_series(labels.iter().enumerate().map(|(i, l)| {
            let c = crate::tracking::expression::colour(l);
            let n = counts.get(l).copied().unwrap_or(0) as u32;
            Rectangle::new(
                [(SegmentValue::Exact(i), 0), (SegmentValue::Exact(i + 1), n)],
                RGBColor(c[0], c[1], c[2]).filled(),
            )
        }))?;
        Ok(())
    })
}

/// Best expression over time, one line per track: `tracks` maps a track id to
/// (seconds since start, class index) points.
pub fn expression_timeline(
    tracks: &BTreeMap<u64, Vec<(f64, usize)>>,
    labels: &[String],
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let tmax = tracks.values().flatten().map(|p| p.0).fold(1e-3, f64::max);
    render(path, |root| {
        let mut chart = chart_builder(root, title, 80)
            .build_cartesian_2d(0.0..tmax * 1.02, -0.5..(labels.len() as f64 - 0.5))?;
        chart
            .configure_mesh()
            .y_labels(labels.len())
            .y_label_formatter(&|v| {
                labels
                    .get(v.round() as usize)
                    .filter(|_| (v - v.round()).abs() < 0.01)
                    .cloned()
                    .unwrap_or_default()
            })
            .x_desc("seconds")
            .draw()?;
        for (k, (id, pts)) in tracks.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            let offset = (k % 5) as f64 * 0.06 - 0.12; // keep overlapping tracks apart
            let series = pts.iter().map(|&(t, c)| (t, c as f64 + offset));
            chart
                .draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))?
                .label(format!("track {id}"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour));
            chart.draw_series(series.map(|p| Circle::new(p, 3, colour.filled())))?;
        }
        if !tracks.is_empty() {
            legend(&mut chart)?;
        }
        Ok(())
    })
}

/// Lines over time: each series (name, points (x, y)) in its own colour, y from 0.
pub fn time_series(
    series: &[(&str, Vec<(f64, f64)>)],
    title: &str,
    (x_desc, y_desc): (&str, &str),
    path: &Path,
) -> Result<(), PlotError> {
    let points = series.iter().flat_map(|s| &s.1);
    let xmax = points.clone().map(|p| p.0).fold(1e-3, f64::max);
    let ymax = points.map(|p| p.1).fold(1e-3, f64::max);
    render(path, |root| {
        let mut chart =
            chart_builder(root, title, 70).build_cartesian_2d(0.0..xmax * 1.02, 0.0..ymax * 1.1)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()?;
        for (k, (name, pts)) in series.iter().enumerate() {
            let colour = Palette99::pick(k).to_rgba();
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour));
        }
        legend(&mut chart)
    })
}

/// The series' names in a box over the chart.
fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<
        'a,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// Confusion matrix: rows are true classes, columns predicted classes (then "no face" when the
/// rows have one more column); cells coloured by row-normalised recall, annotated with counts.
pub fn confusion_matrix(
    confusion: &[Vec<usize>],
    labels: &[String],
    title: &str,
    path: &Path,
) -> Result<(), PlotError> {
    let mut cols: Vec<String> = labels.to_vec();
    if confusion
        .first()
        .is_some_and(|row| row.len() > labels.len())
    {
        cols.push("no face".into());
    }
    let (nr, nc) = (labels.len(), cols.len());
    // Segmented axes put each label under the centre of its cell; row 0 is drawn at the top.
    let cell = |c: usize, r: usize| -> [(SegmentValue<usize>, SegmentValue<usize>); 2] {
        let y = nr - 1 - r;
        [
            (SegmentValue::Exact(c), SegmentValue::Exact(y + 1)),
            (SegmentValue::Exact(c + 1), SegmentValue::Exact(y)),
        ]
    };
    render(path, |root| {
        let mut chart = chart_builder(root, title, 80)
            .build_cartesian_2d((0..nc - 1).into_segmented(), (0..nr - 1).into_segmented())?;
        let name = |names: &[String], v: &SegmentValue<usize>, flip: bool| match v {
            SegmentValue::CenterOf(i) if *i < names.len() => {
                names[if flip { names.len() - 1 - i } else { *i }].clone()
            }
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nc)
            .y_labels(nr)
            .x_label_formatter(&|v| name(&cols, v, false))
            .y_label_formatter(&|v| name(labels, v, true))
            .x_desc("predicted")
            .y_desc("labelled")
            .draw()?;
        for (r, row) in confusion.iter().enumerate() {
            let total = row.iter().sum::<usize>().max(1) as f64;
            for (c, &n) in row.iter().enumerate() {
                let shade = (255.0 * (1.0 - 0.8 * n as f64 / total)) as u8;
                chart.draw_series([Rectangle::new(
                    cell(c, r),
                    RGBColor(shade, shade, 255).filled(),
                )])?;
                let style = ("sans-serif", 16)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart.draw_series([Text::new(
                    n.to_string(),
                    (
                        SegmentValue::CenterOf(c),
                        SegmentValue::CenterOf(nr - 1 - r),
                    ),
                    style,
                )])?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_written_as_png_with_ink() {
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<String> = ["angry", "happy", "neutral"].map(String::from).to_vec();
        let p1 = dir.path().join("h.png");
        latency_histogram(&[1.0, 2.0, 2.5, 9.0], "latency", &p1).unwrap();
        let p2 = dir.path().join("c.png");
        class_distribution(
            &BTreeMap::from([("happy".to_string(), 3), ("neutral".to_string(), 5)]),
            &labels,
            "classes",
            &p2,
        )
        .unwrap();
        let p3 = dir.path().join("t.png");
        expression_timeline(
            &BTreeMap::from([(1, vec![(0.0, 1), (0.5, 2)]), (2, vec![(0.2, 0)])]),
            &labels,
            "timeline",
            &p3,
        )
        .unwrap();
        let p4 = dir.path().join("m.png");
        confusion_matrix(
            &[vec![2, 0, 1, 0], vec![0, 1, 0, 0], vec![0, 0, 3, 1]],
            &labels,
            "confusion",
            &p4,
        )
        .unwrap();
        for p in [p1, p2, p3, p4] {
            let img = image::open(&p).unwrap().into_rgb8();
            assert_eq!(img.dimensions(), (W, H));
            assert!(
                img.pixels().filter(|px| px.0 != [255, 255, 255]).count() > 2000,
                "{} is blank",
                p.display()
            );
        }
    }
}
