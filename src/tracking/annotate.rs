//! Draw faces onto an image: box, five landmarks, and "expression 87%" in a readable label.
//! Text uses the bundled DejaVu Sans (Bitstream Vera licence, assets/fonts/DejaVuSans.LICENSE).

use std::sync::OnceLock;

use ab_glyph::{FontRef, PxScale};
use image::{Rgb, RgbImage};
use imageproc::drawing::{
    draw_filled_circle_mut, draw_filled_rect_mut, draw_hollow_rect_mut, draw_text_mut, text_size,
};
use imageproc::rect::Rect;
use ndarray::ArrayView3;

use crate::perception::pipeline::Face;
use crate::tracking::expression::colour;

pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

fn font() -> &'static FontRef<'static> {
    static FONT: OnceLock<FontRef<'static>> = OnceLock::new();
    // The font is compiled in and known to parse; a failure here is a build defect.
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).expect("bundled DejaVuSans.ttf parses"))
}

/// A copy of an RGB frame (`[height, width, 3]`, any strides) with every face drawn on it.
pub fn annotated(rgb: ArrayView3<'_, u8>, faces: &[Face]) -> RgbImage {
    let (h, w, _) = rgb.dim();
    let mut img = RgbImage::from_raw(w as u32, h as u32, rgb.iter().copied().collect())
        .unwrap_or_else(|| RgbImage::new(w as u32, h as u32));
    draw_faces(&mut img, faces);
    img
}

/// Draw every face onto `img`.
pub fn draw_faces(img: &mut RgbImage, faces: &[Face]) {
    let (w, h) = img.dimensions();
    let thickness = ((w.max(h) as f32 / 400.0).round() as i32).max(1);
    let scale = PxScale::from((w.max(h) as f32 / 40.0).clamp(11.0, 28.0));
    for f in faces {
        let c = Rgb(colour(&f.expression));
        let (x0, y0) = (f.bbox.x0.round() as i32, f.bbox.y0.round() as i32);
        let (bw, bh) = (
            f.bbox.width().round().max(1.0) as u32,
            f.bbox.height().round().max(1.0) as u32,
        );
        for t in 0..thickness {
            let r = Rect::at(x0 - t, y0 - t).of_size(bw + 2 * t as u32, bh + 2 * t as u32);
            draw_hollow_rect_mut(img, r, c);
        }
        for p in &f.landmarks {
            draw_filled_circle_mut(
                img,
                (p[0].round() as i32, p[1].round() as i32),
                thickness,
                Rgb([0, 255, 255]),
            );
        }
        let text = if f.expression.is_empty() {
            format!("face {:.0}%", f.score * 100.0)
        } else {
            format!("{} {:.0}%", f.expression, f.confidence * 100.0)
        };
        let (tw, th) = text_size(scale, font(), &text);
        // Label above the box (inside it when the box touches the top edge), kept in the image.
        let ty = if y0 - th as i32 - 4 >= 0 {
            y0 - th as i32 - 4
        } else {
            y0 + 2
        };
        let tx = (x0 - thickness).min(w as i32 - tw as i32 - 6).max(0);
        draw_filled_rect_mut(img, Rect::at(tx, ty).of_size(tw + 6, th + 4), c);
        draw_text_mut(img, Rgb([0, 0, 0]), tx + 3, ty + 1, scale, font(), &text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perception::detect::BBox;

    #[test]
    fn draws_box_and_label_pixels() {
        let mut img = RgbImage::new(200, 150);
        let face = Face {
            bbox: BBox {
                x0: 50.0,
                y0: 60.0,
                x1: 110.0,
                y1: 130.0,
            },
            score: 0.9,
            landmarks: [[70.0, 80.0]; 5],
            expression: "happy".into(),
            confidence: 0.8,
            probabilities: vec![],
        };
        draw_faces(&mut img, &[face]);
        assert_eq!(*img.get_pixel(50, 100), Rgb(colour("happy")));
        assert_eq!(*img.get_pixel(70, 80), Rgb([0, 255, 255]));
        // The label background sits above the box and holds dark text pixels.
        let label: Vec<_> = (50..90).map(|x| *img.get_pixel(x, 50)).collect();
        assert!(label.iter().any(|p| *p == Rgb(colour("happy"))));
        assert!((50..120)
            .flat_map(|x| (40..60).map(move |y| (x, y)))
            .any(|(x, y)| img.get_pixel(x, y).0[2] < 50 && img.get_pixel(x, y).0[0] < 50));
    }
}
