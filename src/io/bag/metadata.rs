//! rosbag2 `metadata.yaml`: which storage plugin wrote the bag and its files (other keys, such
//! as the topic list, are read from the storage files themselves).

use std::path::Path;

use serde::Deserialize;

use super::BagError;
use crate::Cause;

#[derive(Debug, Deserialize)]
struct MetadataFile {
    rosbag2_bagfile_information: BagInfo,
}

#[derive(Debug, Deserialize)]
pub struct BagInfo {
    pub storage_identifier: String,
    #[serde(default)]
    pub relative_file_paths: Vec<String>,
}

pub fn read(path: &Path) -> Result<BagInfo, BagError> {
    let text = std::fs::read_to_string(path).map_err(|e| BagError::Io {
        path: path.to_path_buf(),
        source: Cause::new(e),
    })?;
    let m: MetadataFile = serde_yaml_ng::from_str(&text).map_err(|e| BagError::Corrupt {
        path: path.to_path_buf(),
        source: Cause::new(e),
    })?;
    Ok(m.rosbag2_bagfile_information)
}
