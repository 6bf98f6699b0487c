//! Raw `sensor_msgs/Image` buffers (width, height, step, encoding, is_bigendian, data) to RGB8.

use ndarray::{ArrayView3, CowArray, ShapeBuilder};

use super::{bayer, check_size, rgb_from_vec, yuv, FrameError, RgbPixels};
use crate::Cause;

/// The ROS image encodings this crate converts (names as in `sensor_msgs/image_encodings.hpp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Rgb8,
    Bgr8,
    Rgba8,
    Bgra8,
    /// `mono8` and `8UC1`.
    Mono8,
    /// `mono16` and `16UC1`, scaled to 8 bits by dropping the low byte.
    Mono16,
    /// `8UC3`: three 8-bit channels without a colour meaning; read as BGR, OpenCV's order.
    Bgr8Generic,
    /// `yuv422` / `uyvy`: U0 Y0 V0 Y1.
    Uyvy,
    /// `yuv422_yuy2` / `yuyv`: Y0 U0 Y1 V0.
    Yuyv,
    Bayer(bayer::Pattern),
}

impl Encoding {
    pub fn parse(name: &str) -> Result<Self, FrameError> {
        use bayer::Pattern::*;
        Ok(match name {
            "rgb8" => Self::Rgb8,
            "bgr8" => Self::Bgr8,
            "rgba8" => Self::Rgba8,
            "bgra8" => Self::Bgra8,
            "mono8" | "8UC1" => Self::Mono8,
            "mono16" | "16UC1" => Self::Mono16,
            "8UC3" => Self::Bgr8Generic,
            "yuv422" | "uyvy" => Self::Uyvy,
            "yuv422_yuy2" | "yuyv" => Self::Yuyv,
            "bayer_rggb8" => Self::Bayer(Rggb),
            "bayer_bggr8" => Self::Bayer(Bggr),
            "bayer_gbrg8" => Self::Bayer(Gbrg),
            "bayer_grbg8" => Self::Bayer(Grbg),
            other => return Err(FrameError::UnknownEncoding(other.to_string())),
        })
    }

    pub fn bytes_per_pixel(self) -> u64 {
        match self {
            Self::Rgb8 | Self::Bgr8 | Self::Bgr8Generic => 3,
            Self::Rgba8 | Self::Bgra8 => 4,
            Self::Mono8 | Self::Bayer(_) => 1,
            Self::Mono16 | Self::Uyvy | Self::Yuyv => 2,
        }
    }
}

/// A borrowed raw image, field for field as in `sensor_msgs/msg/Image`.
#[derive(Debug, Clone, Copy)]
pub struct RawImage<'a> {
    pub width: u32,
    pub height: u32,
    /// Bytes per row, including any padding.
    pub step: u32,
    pub encoding: &'a str,
    pub is_bigendian: bool,
    pub data: &'a [u8],
}

impl<'a> RawImage<'a> {
    /// Convert to RGB8. `rgb8` input is returned as a view of `data` (row padding handled by
    /// strides); every other encoding is converted into a new array.
    pub fn to_rgb(&self) -> Result<RgbPixels<'a>, FrameError> {
        let enc = Encoding::parse(self.encoding)?;
        check_size(self.width, self.height)?;
        let min_step = u64::from(self.width) * enc.bytes_per_pixel();
        if u64::from(self.step) < min_step {
            return Err(FrameError::StepTooSmall {
                step: self.step,
                min: min_step,
            });
        }
        // The last row need not carry padding.
        let needed = u64::from(self.step) * u64::from(self.height - 1) + min_step;
        if (self.data.len() as u64) < needed {
            return Err(FrameError::DataTooShort {
                len: self.data.len(),
                needed,
                height: self.height,
                step: self.step,
            });
        }
        let (w, h) = (self.width as usize, self.height as usize);
        if enc == Encoding::Rgb8 {
            let shape = (h, w, 3).strides((self.step as usize, 3, 1));
            let view =
                ArrayView3::from_shape(shape, self.data).map_err(|e| FrameError::Decode {
                    format: "rgb8",
                    source: Cause::new(e),
                })?;
            return Ok(CowArray::from(view));
        }
        let rows = self.rows(min_step as usize);
        let out = match enc {
            Encoding::Bgr8 | Encoding::Bgr8Generic => {
                per_pixel(w, h, rows, 3, |p| [p[2], p[1], p[0]])
            }
            Encoding::Rgba8 => per_pixel(w, h, rows, 4, |p| [p[0], p[1], p[2]]),
            Encoding::Bgra8 => per_pixel(w, h, rows, 4, |p| [p[2], p[1], p[0]]),
            Encoding::Mono8 => per_pixel(w, h, rows, 1, |p| [p[0]; 3]),
            Encoding::Mono16 => {
                let hi = usize::from(!self.is_bigendian); // index of the high byte
                per_pixel(w, h, rows, 2, |p| [p[hi]; 3])
            }
            Encoding::Uyvy => yuv::to_rgb(w, h, rows, yuv::Order::Uyvy)?,
            Encoding::Yuyv => yuv::to_rgb(w, h, rows, yuv::Order::Yuyv)?,
            Encoding::Bayer(pattern) => bayer::demosaic(w, h, rows, pattern)?,
            Encoding::Rgb8 => unreachable!("handled above"),
        };
        Ok(CowArray::from(rgb_from_vec(self.width, self.height, out)))
    }

    /// The image rows without their padding (each `row_bytes` long).
    fn rows(&self, row_bytes: usize) -> impl Iterator<Item = &'a [u8]> + Clone {
        let step = self.step as usize;
        let data = self.data;
        (0..self.height as usize).map(move |r| &data[r * step..r * step + row_bytes])
    }
}

fn per_pixel<'r>(
    w: usize,
    h: usize,
    rows: impl Iterator<Item = &'r [u8]>,
    bpp: usize,
    f: impl Fn(&[u8]) -> [u8; 3],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(w * h * 3);
    for row in rows {
        for px in row.chunks_exact(bpp) {
            out.extend_from_slice(&f(px));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img<'a>(w: u32, h: u32, step: u32, enc: &'a str, data: &'a [u8]) -> RawImage<'a> {
        RawImage {
            width: w,
            height: h,
            step,
            encoding: enc,
            is_bigendian: false,
            data,
        }
    }

    #[test]
    fn rgb8_is_a_zero_copy_view_even_with_padding() {
        // 2x2, step 8 (2 bytes of padding per row, marked 99).
        let data = [1, 2, 3, 4, 5, 6, 99, 99, 7, 8, 9, 10, 11, 12];
        let out = img(2, 2, 8, "rgb8", &data).to_rgb().unwrap();
        assert!(out.is_view());
        assert_eq!(out.as_ptr(), data.as_ptr());
        assert_eq!(out[[1, 0, 0]], 7);
        assert_eq!(out[[1, 1, 2]], 12);
        assert_eq!(out[[0, 1, 1]], 5);
    }

    #[test]
    fn bgr8_and_8uc3_swap_channels() {
        let data = [10, 20, 30, 40, 50, 60];
        for enc in ["bgr8", "8UC3"] {
            let out = img(2, 1, 6, enc, &data).to_rgb().unwrap();
            assert_eq!(
                out.iter().copied().collect::<Vec<_>>(),
                vec![30, 20, 10, 60, 50, 40]
            );
        }
    }

    #[test]
    fn four_channel_encodings_drop_alpha() {
        let data = [1, 2, 3, 255, 4, 5, 6, 0, 77, 77];
        let rgba = img(2, 1, 10, "rgba8", &data).to_rgb().unwrap();
        assert_eq!(
            rgba.iter().copied().collect::<Vec<_>>(),
            vec![1, 2, 3, 4, 5, 6]
        );
        let bgra = img(2, 1, 10, "bgra8", &data).to_rgb().unwrap();
        assert_eq!(
            bgra.iter().copied().collect::<Vec<_>>(),
            vec![3, 2, 1, 6, 5, 4]
        );
    }

    #[test]
    fn mono_encodings_replicate_grey() {
        let data = [0, 128, 255, 9, 1, 2, 3, 9];
        for enc in ["mono8", "8UC1"] {
            let out = img(3, 2, 4, enc, &data).to_rgb().unwrap();
            assert_eq!(out.shape(), &[2, 3, 3]);
            assert_eq!(
                out.iter().copied().collect::<Vec<_>>(),
                vec![0, 0, 0, 128, 128, 128, 255, 255, 255, 1, 1, 1, 2, 2, 2, 3, 3, 3]
            );
        }
    }

    #[test]
    fn mono16_honours_endianness() {
        // 0x1234 and 0xABCD: high bytes 0x12 and 0xAB.
        let le = [0x34, 0x12, 0xCD, 0xAB];
        let be = [0x12, 0x34, 0xAB, 0xCD];
        for enc in ["mono16", "16UC1"] {
            let out = img(2, 1, 4, enc, &le).to_rgb().unwrap();
            assert_eq!(
                out.iter().copied().collect::<Vec<_>>(),
                vec![0x12; 3]
                    .into_iter()
                    .chain(vec![0xAB; 3])
                    .collect::<Vec<_>>()
            );
            let mut big = img(2, 1, 4, enc, &be);
            big.is_bigendian = true;
            assert_eq!(big.to_rgb().unwrap(), out);
        }
    }

    #[test]
    fn padding_is_skipped_for_converted_encodings() {
        let data = [1, 2, 3, 0xEE, 4, 5, 6];
        let out = img(1, 2, 4, "bgr8", &data).to_rgb().unwrap();
        assert_eq!(
            out.iter().copied().collect::<Vec<_>>(),
            vec![3, 2, 1, 6, 5, 4]
        );
    }

    #[test]
    fn malformed_buffers_are_typed_errors() {
        let d = [0u8; 64];
        type Expect = fn(&FrameError) -> bool;
        let cases: Vec<(RawImage, Expect)> = vec![
            (img(0, 4, 0, "rgb8", &d), |e| {
                matches!(e, FrameError::ZeroSize { .. })
            }),
            (img(4, 0, 12, "rgb8", &d), |e| {
                matches!(e, FrameError::ZeroSize { .. })
            }),
            (img(100_000, 2, 300_000, "rgb8", &d), |e| {
                matches!(e, FrameError::TooLarge { .. })
            }),
            (img(16_000, 16_000, 48_000, "rgb8", &d), |e| {
                matches!(e, FrameError::TooLarge { .. })
            }),
            (img(2, 2, 6, "hsv8", &d), |e| {
                matches!(e, FrameError::UnknownEncoding(_))
            }),
            (img(2, 2, 6, "", &d), |e| {
                matches!(e, FrameError::UnknownEncoding(_))
            }),
            (img(4, 2, 11, "rgb8", &d), |e| {
                matches!(e, FrameError::StepTooSmall { .. })
            }),
            (img(4, 2, 7, "mono16", &d), |e| {
                matches!(e, FrameError::StepTooSmall { .. })
            }),
            (img(8, 8, 24, "rgb8", &d), |e| {
                matches!(e, FrameError::DataTooShort { .. })
            }),
            (img(4, 4, 100, "mono8", &d), |e| {
                matches!(e, FrameError::DataTooShort { .. })
            }),
            (img(3, 2, 6, "yuv422", &d), |e| {
                matches!(e, FrameError::BadGeometry { .. })
            }),
            (img(1, 4, 1, "bayer_rggb8", &d), |e| {
                matches!(e, FrameError::BadGeometry { .. })
            }),
        ];
        for (i, (raw, ok)) in cases.into_iter().enumerate() {
            let err = raw.to_rgb().expect_err(&format!("case {i} should fail"));
            assert!(ok(&err), "case {i}: unexpected error {err}");
            assert!(!err.to_string().is_empty());
        }
    }
}
