//! An MCAP rosbag2 file from anywhere (truncated, corrupted chunks and indexes): opened, its
//! topics listed, every message read and its images decoded, as `masked_fer replay` does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| masked_fer_fuzz::bag_file(bytes, "mcap"));
