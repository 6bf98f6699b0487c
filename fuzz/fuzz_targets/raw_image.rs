//! sensor_msgs/Image fields as any participant may send them: width, height, step, encoding,
//! endianness and data, converted to RGB (`RawImage::to_rgb`).
//! Input: width u32 LE, height u32 LE, step u32 LE, flags u8 (bit 0: big endian), encoding
//! length u8, encoding bytes, data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use masked_fer::perception::image::RawImage;

fuzz_target!(|input: &[u8]| {
    let Some((head, rest)) = input.split_first_chunk::<14>() else {
        return;
    };
    let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
    let (n, rest) = (usize::from(head[13]).min(rest.len()), rest);
    let Ok(encoding) = std::str::from_utf8(&rest[..n]) else {
        return;
    };
    let raw = RawImage {
        width: word(0),
        height: word(4),
        step: word(8),
        encoding,
        is_bigendian: head[12] & 1 == 1,
        data: &rest[n..],
    };
    if let Ok(rgb) = raw.to_rgb() {
        let (h, w, c) = rgb.dim();
        assert_eq!(
            (h as u64, w as u64, c),
            (u64::from(raw.height), u64::from(raw.width), 3)
        );
    }
});
