//! `sensor_msgs/CompressedImage` payloads (JPEG, PNG) to RGB8.
//!
//! The `format` field follows image_transport's conventions: `"jpeg"`, `"png"`, or
//! `"<original encoding>; jpeg compressed <encoding>"` (compressed_image_transport). The codec is
//! taken from the format string, or sniffed from the magic bytes when the string names none.
//! `compressedDepth` (16-bit depth PNGs) is not an image a face detector can use and is refused.

use std::io::Cursor;

use image::{ImageDecoder, ImageFormat, ImageReader, Limits};

use super::{check_size, rgb_from_vec, FrameError, RgbPixels, MAX_PIXELS};
use crate::Cause;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressedFormat {
    Jpeg,
    Png,
}

impl CompressedFormat {
    /// Parse a CompressedImage `format` string, sniffing `data` when the string is silent.
    pub fn detect(format: &str, data: &[u8]) -> Result<Self, FrameError> {
        let f = format.to_ascii_lowercase();
        if f.contains("compresseddepth") {
            return Err(FrameError::UnsupportedCompressed(format.to_string()));
        }
        if f.contains("jpeg") || f.contains("jpg") {
            return Ok(Self::Jpeg);
        }
        if f.contains("png") {
            return Ok(Self::Png);
        }
        if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Ok(Self::Jpeg)
        } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Ok(Self::Png)
        } else {
            Err(FrameError::UnsupportedCompressed(format.to_string()))
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
        }
    }
}

/// Decode a compressed image into a new RGB8 array (grey and alpha images are converted).
pub fn decode_compressed(format: &str, data: &[u8]) -> Result<RgbPixels<'static>, FrameError> {
    if data.is_empty() {
        return Err(FrameError::EmptyCompressed);
    }
    let fmt = CompressedFormat::detect(format, data)?;
    // Decoders fill a cut-off JPEG with grey and report success; a JPEG must end with its EOI
    // marker (some encoders pad a few bytes after it).
    if fmt == CompressedFormat::Jpeg
        && !data[data.len().saturating_sub(64)..]
            .windows(2)
            .any(|w| w == [0xFF, 0xD9])
    {
        return Err(FrameError::TruncatedJpeg);
    }
    let err = |e: image::ImageError| FrameError::Decode {
        format: fmt.name(),
        source: Cause::new(e),
    };
    let mut reader = ImageReader::new(Cursor::new(data));
    reader.set_format(match fmt {
        CompressedFormat::Jpeg => ImageFormat::Jpeg,
        CompressedFormat::Png => ImageFormat::Png,
    });
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let decoder = reader.into_decoder().map_err(err)?;
    let (w, h) = decoder.dimensions();
    check_size(w, h)?;
    let rgb = image::DynamicImage::from_decoder(decoder)
        .map_err(err)?
        .into_rgb8();
    Ok(RgbPixels::from(rgb_from_vec(w, h, rgb.into_raw())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(fmt: ImageFormat, img: image::DynamicImage) -> Vec<u8> {
        let mut buf = Cursor::new(Vec::new());
        img.write_to(&mut buf, fmt).unwrap();
        buf.into_inner()
    }

    fn sample() -> image::RgbImage {
        image::RgbImage::from_fn(16, 8, |x, y| {
            image::Rgb([(x * 15) as u8, (y * 30) as u8, 200])
        })
    }

    #[test]
    fn png_round_trips_exactly_with_every_format_spelling() {
        let png = encode(ImageFormat::Png, sample().into());
        for format in [
            "png",
            "rgb8; png compressed bgr8",
            "bgr8; png compressed rgb8",
            "",
        ] {
            let out = decode_compressed(format, &png).unwrap();
            assert_eq!(out.shape(), &[8, 16, 3]);
            assert_eq!(
                out.as_standard_layout().as_slice().unwrap(),
                sample().as_raw().as_slice(),
                "{format}"
            );
        }
    }

    #[test]
    fn jpeg_decodes_close_to_the_source_and_grey_is_expanded() {
        let jpg = encode(ImageFormat::Jpeg, sample().into());
        for format in ["jpeg", "bgr8; jpeg compressed bgr8", "JPG"] {
            let out = decode_compressed(format, &jpg).unwrap();
            let diff: f64 = out
                .iter()
                .zip(sample().as_raw())
                .map(|(a, b)| f64::from(a.abs_diff(*b)))
                .sum::<f64>()
                / out.len() as f64;
            assert!(diff < 6.0, "{format}: mean abs diff {diff}");
        }
        let grey = image::GrayImage::from_fn(4, 4, |x, _| image::Luma([(x * 60) as u8]));
        let out = decode_compressed("png", &encode(ImageFormat::Png, grey.into())).unwrap();
        assert_eq!(out[[0, 2, 0]], 120);
        assert_eq!(out[[0, 2, 2]], 120);
    }

    #[test]
    fn bad_payloads_are_typed_errors() {
        let jpg = encode(ImageFormat::Jpeg, sample().into());
        let png = encode(ImageFormat::Png, sample().into());
        let mut corrupt = jpg.clone();
        for b in corrupt.iter_mut().skip(20).take(200) {
            *b = 0x00;
        }
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("jpeg", vec![]),
            ("jpeg", jpg[..jpg.len() / 3].to_vec()),
            ("jpeg", jpg[..jpg.len() - 2].to_vec()),
            ("jpeg", corrupt),
            ("png", png[..png.len() / 2].to_vec()),
            ("jpeg", png.clone()),
            ("tiff", vec![1, 2, 3, 4]),
            ("16UC1; compressedDepth png", png.clone()),
            ("", b"GIF89a....".to_vec()),
        ];
        for (format, data) in cases {
            let err = decode_compressed(format, &data).expect_err(format);
            assert!(!err.to_string().is_empty());
        }
    }
}
