//! Reading bags written by an independent implementation (PyPI `rosbags`, test/peers/make_bags.py):
//! MCAP and sqlite3 storage, raw and compressed images, decoded back to the exact pixels; and
//! truncated, corrupt or foreign files fail with an error that names the file.
#![allow(clippy::unwrap_used)] // a panic is a test's (or bench's) failure report

mod common;

use masked_fer::io::bag::msgs::{from_cdr, CompressedImage, Image};
use masked_fer::io::bag::{Bag, BagError};
use masked_fer::perception::image::decode_compressed;
use sha2::{Digest, Sha256};

#[test]
fn reads_rosbags_bags_in_both_storages() {
    let dir = tempfile::tempdir().unwrap();
    let expected = common::make_bags(dir.path());
    let frames = expected["frames"].as_array().unwrap();
    for storage in ["mcap", "sqlite3"] {
        let bag = Bag::open(&dir.path().join(storage)).unwrap();
        assert_eq!(bag.storage(), storage);
        let topics = bag.topics().unwrap();
        let names: Vec<(&str, &str, u64)> = topics
            .iter()
            .map(|t| (t.name.as_str(), t.type_name.as_str(), t.count))
            .collect();
        assert_eq!(
            names,
            vec![
                ("/camera/image_raw", "sensor_msgs/msg/Image", 6),
                (
                    "/camera/image_raw/compressed",
                    "sensor_msgs/msg/CompressedImage",
                    6
                ),
                ("/chatter", "std_msgs/msg/String", 6),
            ]
        );
        let (mut raw, mut compressed) = (0, 0);
        bag.for_each(|m| {
            match m.type_name.as_str() {
                "sensor_msgs/msg/Image" => {
                    let img: Image = from_cdr(&m.data, &m.type_name)?;
                    let want = &frames[raw];
                    assert_eq!(
                        [img.header.stamp.sec as i64, img.header.stamp.nanosec as i64],
                        [
                            want["stamp"][0].as_i64().unwrap(),
                            want["stamp"][1].as_i64().unwrap()
                        ]
                    );
                    let rgb = img.as_raw().to_rgb().unwrap();
                    let digest = format!(
                        "{:x}",
                        Sha256::digest(rgb.as_standard_layout().as_slice().unwrap())
                    );
                    assert_eq!(
                        digest,
                        want["rgb_sha256"].as_str().unwrap(),
                        "{storage} frame {raw} ({})",
                        img.encoding
                    );
                    raw += 1;
                }
                "sensor_msgs/msg/CompressedImage" => {
                    let img: CompressedImage = from_cdr(&m.data, &m.type_name)?;
                    let rgb = decode_compressed(&img.format, &img.data).unwrap();
                    assert_eq!(
                        rgb.shape()[1] as u64,
                        frames[compressed]["width"].as_u64().unwrap()
                    );
                    compressed += 1;
                }
                _ => assert_eq!(m.topic, "/chatter"),
            }
            Ok(())
        })
        .unwrap();
        assert_eq!((raw, compressed), (6, 6), "{storage}");
        // A single storage file opens without its directory too.
        let file = std::fs::read_dir(dir.path().join(storage))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "mcap" || x == "db3"))
            .unwrap();
        assert_eq!(Bag::open(&file).unwrap().topics().unwrap().len(), 3);
    }
}

#[test]
fn damaged_and_foreign_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    common::make_bags(dir.path());
    // MCAP cut in half: the messages before the cut are read, then a Corrupt error.
    let mcap = dir.path().join("mcap/mcap.mcap");
    let bytes = std::fs::read(&mcap).unwrap();
    let cut = dir.path().join("cut.mcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let bag = Bag::open(&cut).unwrap();
    let mut seen = 0;
    let err = bag.for_each(|_| {
        seen += 1;
        Ok(())
    });
    assert!(matches!(err, Err(BagError::Corrupt { .. })), "{err:?}");
    assert!(seen > 0 && seen < 18, "{seen}");
    assert!(err.unwrap_err().to_string().contains("cut.mcap"));
    // sqlite cut short.
    let db3 = std::fs::read(dir.path().join("sqlite3/sqlite3.db3")).unwrap();
    let cut_db = dir.path().join("cut.db3");
    std::fs::write(&cut_db, &db3[..db3.len() / 3]).unwrap();
    let result = Bag::open(&cut_db).and_then(|b| b.for_each(|_| Ok(())));
    assert!(result.is_err(), "truncated db3 read without error");
    assert!(result.unwrap_err().to_string().contains("cut.db3"));
    // Not a bag at all; an empty directory; a metadata.yaml naming an unknown plugin.
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    assert!(matches!(
        Bag::open(&text),
        Err(BagError::UnknownStorage { .. })
    ));
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert!(Bag::open(&empty).is_err());
    let odd = dir.path().join("odd");
    std::fs::create_dir(&odd).unwrap();
    std::fs::write(odd.join("metadata.yaml"), "rosbag2_bagfile_information:\n  storage_identifier: zarr\n  relative_file_paths: [x.zarr]\n").unwrap();
    assert!(matches!(
        Bag::open(&odd),
        Err(BagError::UnknownStorage { .. })
    ));
    assert!(matches!(
        Bag::open(&dir.path().join("missing")),
        Err(BagError::Io { .. })
    ));
}
