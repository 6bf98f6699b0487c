//! A ROS 2 parameters file for the node's `--params-file` and `masked_fer replay --params`
//! (`NodeParams::from_file`), read for the first node and for a named one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use masked_fer::params::NodeParams;

fuzz_target!(|bytes: &[u8]| {
    let path = masked_fer_fuzz::scratch("yaml");
    if std::fs::write(&path, bytes).is_ok() {
        let _ = NodeParams::from_file(&path, None);
        let _ = NodeParams::from_file(&path, Some("masked_fer"));
    }
});
