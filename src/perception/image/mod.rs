//! The cv-bridge part: camera buffers in, RGB8 `[height, width, 3]` arrays out.
//!
//! Raw `sensor_msgs/Image`-style buffers go through [`RawImage::to_rgb`] (zero-copy for `rgb8`,
//! including row padding), compressed ones through [`decode_compressed`]. Every malformed input
//! is a [`FrameError`]; nothing here panics on input.

mod bayer;
mod compressed;
mod raw;
pub mod resize;
mod yuv;

pub use compressed::{decode_compressed, CompressedFormat};
pub use raw::{Encoding, RawImage};

use ndarray::{Array3, CowArray, Ix3};

use crate::Cause;

/// RGB8 pixels `[height, width, 3]`, borrowed from the input where the layout allows (the
/// `image` crate's `RgbImage` is the owned buffer that `annotate` draws on).
pub type RgbPixels<'a> = CowArray<'a, u8, Ix3>;

/// Largest width or height accepted (a 16K frame); larger is treated as corrupt metadata.
pub const MAX_SIDE: u32 = 16_384;
/// Largest pixel count accepted (2^25, about 33.5 MP: an 8K UHD frame fits), to bound the memory
/// one frame can take (~100 MB decoded; RELIABILITY.md measures it).
pub const MAX_PIXELS: u64 = 1 << 25;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum FrameError {
    #[error("image has zero size ({width}x{height})")]
    ZeroSize { width: u32, height: u32 },
    #[error(
        "image size {width}x{height} exceeds the limit ({MAX_SIDE} per side, {MAX_PIXELS} pixels)"
    )]
    TooLarge { width: u32, height: u32 },
    #[error("unknown or unsupported encoding {0:?}")]
    UnknownEncoding(String),
    #[error("step {step} is smaller than width x bytes per pixel ({min})")]
    StepTooSmall { step: u32, min: u64 },
    #[error("data has {len} bytes but {needed} are needed for {height} rows of step {step}")]
    DataTooShort {
        len: usize,
        needed: u64,
        height: u32,
        step: u32,
    },
    #[error("{encoding} needs {what}, got {width}x{height}")]
    BadGeometry {
        encoding: &'static str,
        what: &'static str,
        width: u32,
        height: u32,
    },
    #[error("unsupported compressed format {0:?} (supported: jpeg, png)")]
    UnsupportedCompressed(String),
    #[error("compressed image is empty")]
    EmptyCompressed,
    #[error("cannot decode {format} data")]
    Decode {
        format: &'static str,
        #[source]
        source: Cause,
    },
    #[error("cannot decode jpeg data: truncated, no end-of-image marker")]
    TruncatedJpeg,
}

/// Copy an owned RGB8 buffer (`width * height * 3` bytes) into an array.
fn rgb_from_vec(width: u32, height: u32, data: Vec<u8>) -> Array3<u8> {
    // The length is computed from the same width and height by every caller.
    Array3::from_shape_vec((height as usize, width as usize, 3), data)
        .expect("buffer length matches width * height * 3")
}

fn check_size(width: u32, height: u32) -> Result<(), FrameError> {
    if width == 0 || height == 0 {
        return Err(FrameError::ZeroSize { width, height });
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(FrameError::TooLarge { width, height });
    }
    Ok(())
}
