//! A ground-truth labels CSV for `masked_fer replay --labels` (`report::labels::parse`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use masked_fer::report::labels;

const CLASSES: [&str; 7] = [
    "angry", "disgust", "fear", "happy", "neutral", "sad", "surprise",
];

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let classes: Vec<String> = CLASSES.map(String::from).to_vec();
        let _ = labels::parse(text, &classes);
    }
});
