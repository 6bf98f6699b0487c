//! CDR bytes of an Image or CompressedImage (a bag's stored message, or what the node gets from
//! rcl), decoded and converted. Input: selector u8 (even: Image, odd: CompressedImage), CDR bytes
//! with their 4-byte encapsulation header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use masked_fer::io::bag::msgs::{CompressedImage, Image, RosMessage};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, cdr)) = input.split_first() else {
        return;
    };
    let type_name = if selector % 2 == 0 {
        Image::TYPE
    } else {
        CompressedImage::TYPE
    };
    masked_fer_fuzz::image_message(type_name, cdr);
});
