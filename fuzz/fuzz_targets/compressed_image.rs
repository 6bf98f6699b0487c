//! sensor_msgs/CompressedImage as any participant may send it: a `format` string and bytes
//! that claim to be JPEG or PNG, decoded to RGB (`decode_compressed`).
//! Input: format length u8, format bytes, data.
#![no_main]

use libfuzzer_sys::fuzz_target;
use masked_fer::perception::image::decode_compressed;

fuzz_target!(|input: &[u8]| {
    let Some((&n, rest)) = input.split_first() else {
        return;
    };
    let n = usize::from(n).min(rest.len());
    let Ok(format) = std::str::from_utf8(&rest[..n]) else {
        return;
    };
    let _ = decode_compressed(format, &rest[n..]);
});
