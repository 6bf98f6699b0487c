//! A sqlite3 rosbag2 file (.db3) from anywhere: opened, its topics listed, every message read
//! and its images decoded, as `masked_fer replay` does.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| masked_fer_fuzz::bag_file(bytes, "db3"));
