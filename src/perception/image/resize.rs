//! SIMD resizing of RGB8 arrays (fast_image_resize, bilinear convolution as in Pillow), with
//! buffers kept between calls so a steady stream of frames does not allocate.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use ndarray::ArrayView3;

use super::FrameError;
use crate::Cause;

/// A source region in pixels: left, top, width, height (sub-pixel allowed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

#[derive(Default)]
pub struct RgbResizer {
    resizer: Resizer,
    packed: Vec<u8>,
    out: Vec<u8>,
}

impl RgbResizer {
    /// Resize `region` of `src` (the whole image when `None`) to `dst_w` x `dst_h`; returns the
    /// packed RGB8 pixels, valid until the next call.
    pub fn resize(
        &mut self,
        src: ArrayView3<'_, u8>,
        region: Option<Region>,
        dst_w: u32,
        dst_h: u32,
    ) -> Result<&[u8], FrameError> {
        let (h, w, c) = src.dim();
        if c != 3 || w == 0 || h == 0 || dst_w == 0 || dst_h == 0 {
            return Err(FrameError::BadGeometry {
                encoding: "rgb8",
                what: "a non-empty 3-channel image",
                width: w as u32,
                height: h as u32,
            });
        }
        let err = |source| FrameError::Decode {
            format: "resize",
            source,
        };
        // fast_image_resize needs packed rows: padded or strided views are packed into a buffer.
        let pixels: &[u8] = match src.as_slice() {
            Some(s) => s,
            None => {
                self.packed.clear();
                self.packed.extend(src.iter().copied());
                &self.packed
            }
        };
        let full = Region {
            left: 0.0,
            top: 0.0,
            width: w as f64,
            height: h as f64,
        };
        let region = region.unwrap_or(full);
        let n = dst_w as usize * dst_h as usize * 3;
        if region == full && (dst_w as usize, dst_h as usize) == (w, h) {
            self.out.clear();
            self.out.extend_from_slice(&pixels[..n]);
            return Ok(&self.out);
        }
        let src_img = ImageRef::new(w as u32, h as u32, pixels, PixelType::U8x3)
            .map_err(|e| err(Cause::new(e)))?;
        self.out.resize(n, 0);
        let mut dst = Image::from_slice_u8(dst_w, dst_h, &mut self.out, PixelType::U8x3)
            .map_err(|e| err(Cause::new(e)))?;
        let opts = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
            .crop(region.left, region.top, region.width, region.height);
        self.resizer
            .resize(&src_img, &mut dst, &opts)
            .map_err(|e| err(Cause::new(e)))?;
        Ok(&self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array3;

    #[test]
    fn identity_and_flat_colour_survive_resizing() {
        let img = Array3::from_shape_fn((6, 8, 3), |(y, x, c)| (y * 40 + x * 3 + c) as u8);
        let mut r = RgbResizer::default();
        assert_eq!(
            r.resize(img.view(), None, 8, 6).unwrap(),
            img.as_slice().unwrap()
        );
        let flat = Array3::from_elem((10, 10, 3), 77u8);
        assert!(r
            .resize(flat.view(), None, 4, 3)
            .unwrap()
            .iter()
            .all(|&v| v == 77));
    }

    #[test]
    fn crop_selects_the_region() {
        // Left half black, right half white: a crop away from the edge sees only white (the
        // filter may read just past the crop, as Pillow's does, so stay two pixels clear).
        let img = Array3::from_shape_fn((10, 20, 3), |(_, x, _)| if x >= 10 { 255u8 } else { 0 });
        let mut r = RgbResizer::default();
        let region = Region {
            left: 12.0,
            top: 0.0,
            width: 8.0,
            height: 10.0,
        };
        assert!(r
            .resize(img.view(), Some(region), 4, 5)
            .unwrap()
            .iter()
            .all(|&v| v == 255));
        let left = Region {
            left: 0.0,
            top: 0.0,
            width: 8.0,
            height: 10.0,
        };
        assert!(r
            .resize(img.view(), Some(left), 4, 5)
            .unwrap()
            .iter()
            .all(|&v| v == 0));
    }

    #[test]
    fn strided_views_are_packed_first() {
        let img = Array3::from_shape_fn((4, 6, 3), |(y, x, c)| (y * 18 + x * 3 + c) as u8);
        let view = img.slice(ndarray::s![.., 1..5, ..]);
        let mut r = RgbResizer::default();
        let out = r.resize(view, None, 4, 4).unwrap().to_vec();
        assert_eq!(out, view.iter().copied().collect::<Vec<_>>());
    }
}
