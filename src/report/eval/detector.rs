//! Detector evaluation against Pascal VOC face boxes: IoU matching, recall by face size,
//! precision. Used by `masked_fer eval-detector` to build the table in models/README.md.

use serde::Serialize;

use crate::perception::detect::{iou, BBox, Detection};

/// One annotated photo.
#[derive(Debug, Clone)]
pub struct VocImage {
    pub filename: String,
    pub boxes: Vec<(BBox, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum VocError {
    #[error("not XML")]
    Xml(#[from] roxmltree::Error),
    #[error("{0}")]
    Missing(String),
}

/// Parse a Pascal VOC annotation file (`<filename>`, `<object><name>`, `<bndbox>`).
pub fn parse_voc(text: &str) -> Result<VocImage, VocError> {
    let missing = |what: &str| VocError::Missing(what.into());
    let doc = roxmltree::Document::parse(text)?;
    let child_text = |n: roxmltree::Node, tag: &str| {
        n.children()
            .find(|c| c.has_tag_name(tag))
            .and_then(|c| c.text())
            .map(str::trim)
            .map(str::to_string)
    };
    let root = doc.root_element();
    let filename = child_text(root, "filename").ok_or_else(|| missing("no <filename>"))?;
    let mut boxes = Vec::new();
    for obj in root.children().filter(|c| c.has_tag_name("object")) {
        let name = child_text(obj, "name").unwrap_or_default();
        let bb = obj
            .children()
            .find(|c| c.has_tag_name("bndbox"))
            .ok_or_else(|| missing("object without <bndbox>"))?;
        let num = |tag: &str| {
            child_text(bb, tag)
                .and_then(|t| t.parse::<f32>().ok())
                .ok_or_else(|| missing(&format!("bad <{tag}>")))
        };
        boxes.push((
            BBox {
                x0: num("xmin")?,
                y0: num("ymin")?,
                x1: num("xmax")?,
                y1: num("ymax")?,
            },
            name,
        ));
    }
    Ok(VocImage { filename, boxes })
}

/// Greedy matching, best detection first: each detection takes the unmatched box it overlaps
/// most, if that IoU reaches `threshold`. Returns, per box, whether it was found, and the number
/// of detections that matched a box.
pub fn match_faces(truth: &[BBox], found: &[Detection], threshold: f32) -> (Vec<bool>, usize) {
    let mut order: Vec<&Detection> = found.iter().collect();
    order.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut hit = vec![false; truth.len()];
    let mut true_pos = 0;
    for d in order {
        let best = truth
            .iter()
            .enumerate()
            .filter(|(i, _)| !hit[*i])
            .map(|(i, t)| (i, iou(t, &d.bbox)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        if let Some((i, v)) = best {
            if v >= threshold {
                hit[i] = true;
                true_pos += 1;
            }
        }
    }
    (hit, true_pos)
}

/// Totals over a data set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DetectionScore {
    pub images: usize,
    pub boxes: usize,
    pub found: usize,
    pub boxes_ge20: usize,
    pub found_ge20: usize,
    pub boxes_ge32: usize,
    pub found_ge32: usize,
    pub detections: usize,
    pub true_positives: usize,
    pub seconds: f64,
}

impl DetectionScore {
    pub fn add(&mut self, truth: &[BBox], found: &[Detection], threshold: f32) {
        let (hit, tp) = match_faces(truth, found, threshold);
        self.images += 1;
        self.boxes += truth.len();
        self.detections += found.len();
        self.true_positives += tp;
        for (t, h) in truth.iter().zip(hit) {
            self.found += usize::from(h);
            if t.width() >= 20.0 {
                self.boxes_ge20 += 1;
                self.found_ge20 += usize::from(h);
            }
            if t.width() >= 32.0 {
                self.boxes_ge32 += 1;
                self.found_ge32 += usize::from(h);
            }
        }
    }
    fn ratio(a: usize, b: usize) -> f64 {
        if b == 0 {
            0.0
        } else {
            a as f64 / b as f64
        }
    }
    pub fn recall(&self) -> f64 {
        Self::ratio(self.found, self.boxes)
    }
    pub fn recall_ge20(&self) -> f64 {
        Self::ratio(self.found_ge20, self.boxes_ge20)
    }
    pub fn recall_ge32(&self) -> f64 {
        Self::ratio(self.found_ge32, self.boxes_ge32)
    }
    /// Matched detections / all detections: a lower bound, as not every face is annotated.
    pub fn precision(&self) -> f64 {
        Self::ratio(self.true_positives, self.detections)
    }
    pub fn ms_per_image(&self) -> f64 {
        1000.0 * self.seconds / self.images.max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_voc_and_matches_by_iou() {
        let xml = "<annotation><filename>a.png</filename><object><name>with_mask</name><bndbox><xmin>10</xmin><ymin>10</ymin><xmax>50</xmax><ymax>60</ymax></bndbox></object><object><name>without_mask</name><bndbox><xmin>100</xmin><ymin>10</ymin><xmax>115</xmax><ymax>30</ymax></bndbox></object></annotation>";
        let v = parse_voc(xml).unwrap();
        assert_eq!(v.filename, "a.png");
        assert_eq!(v.boxes.len(), 2);
        let truth: Vec<BBox> = v.boxes.iter().map(|b| b.0).collect();
        let det = |x0, y0, x1, y1, score| Detection {
            bbox: BBox { x0, y0, x1, y1 },
            score,
            landmarks: [[0.0; 2]; 5],
        };
        let found = vec![
            det(12.0, 12.0, 50.0, 58.0, 0.9),
            det(11.0, 11.0, 49.0, 59.0, 0.8),
            det(300.0, 300.0, 320.0, 320.0, 0.7),
        ];
        let mut s = DetectionScore::default();
        s.add(&truth, &found, 0.5);
        assert_eq!((s.found, s.true_positives, s.detections), (1, 1, 3));
        assert_eq!((s.boxes_ge20, s.found_ge20, s.boxes_ge32), (1, 1, 1));
        assert!((s.recall() - 0.5).abs() < 1e-9);
        assert!(parse_voc("<annotation><object/></annotation>").is_err());
        assert!(parse_voc("not xml").is_err());
    }
}
