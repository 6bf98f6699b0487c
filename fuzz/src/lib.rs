//! What the fuzz targets share: the paths outside bytes take through the library, as the node
//! and replay take them (decode, then convert to RGB).

use std::io::Write;
use std::path::PathBuf;

use masked_fer::io::bag::msgs::{self, CompressedImage, Image, RosMessage};
use masked_fer::io::bag::Bag;
use masked_fer::perception::image::decode_compressed;

/// Decode one image message's CDR bytes as `type_name` and convert its pixels, as replay does
/// with a bag's messages and the node with a camera's.
pub fn image_message(type_name: &str, cdr: &[u8]) {
    if type_name == Image::TYPE {
        if let Ok(m) = msgs::from_cdr::<Image>(cdr, type_name) {
            let _ = m.as_raw().to_rgb();
        }
    } else if type_name == CompressedImage::TYPE {
        if let Ok(m) = msgs::from_cdr::<CompressedImage>(cdr, type_name) {
            let _ = decode_compressed(&m.format, &m.data);
        }
    }
}

/// `bytes` as a bag file named `*.{ext}` (the readers take paths): its topics, then every
/// message, image messages decoded and converted. Errors are the expected outcome; a panic,
/// a hang or a huge allocation is a finding.
pub fn bag_file(bytes: &[u8], ext: &str) {
    let path = scratch(ext);
    let written = std::fs::File::create(&path).and_then(|mut f| f.write_all(bytes));
    if written.is_err() {
        return;
    }
    if let Ok(bag) = Bag::open(&path) {
        let _ = bag.topics();
        let _ = bag.for_each(|m| {
            image_message(&m.type_name, &m.data);
            Ok(())
        });
    }
}

/// A file of this process's own in the temporary directory (tmpfs where it is one).
pub fn scratch(ext: &str) -> PathBuf {
    let dir = std::path::Path::new("/dev/shm");
    let dir = if dir.is_dir() {
        dir.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("masked_fer_fuzz_{}.{ext}", std::process::id()))
}
