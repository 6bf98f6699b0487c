//! rosbag2 bags: read MCAP and sqlite3 storage (directories with `metadata.yaml`, or single
//! files), decode the image messages in them (CDR), and write result bags.

mod mcap_read;
mod mcap_write;
mod metadata;
pub mod msgs;
pub mod schema;
mod sqlite_read;

use std::path::{Path, PathBuf};

use mcap_read::McapFile;
pub use mcap_write::BagWriter;
use sqlite_read::Db3File;

use crate::Cause;

#[derive(Debug, thiserror::Error)]
pub enum BagError {
    #[error("{path}")]
    Io {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("{path}: not a bag: {reason}")]
    NotABag { path: PathBuf, reason: String },
    #[error("{path}: corrupt or truncated bag")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("{path}: unknown bag storage {storage:?} (supported: mcap, sqlite3)")]
    UnknownStorage { path: PathBuf, storage: String },
    #[error("{type_name}: {reason}")]
    Message { type_name: String, reason: String },
    /// Returned by a [`Bag::for_each`] callback to stop reading (the caller was interrupted).
    #[error("stopped before the end of the bag")]
    Stopped,
    #[error("cannot encode or decode {type_name} as CDR")]
    Cdr {
        type_name: String,
        #[source]
        source: Cause,
    },
}

/// A serialised message as stored: topic, ROS type (`sensor_msgs/msg/Image`), receive time
/// (nanoseconds since the epoch) and CDR bytes.
#[derive(Debug, Clone)]
pub struct BagMessage {
    pub topic: String,
    pub type_name: String,
    pub log_time: u64,
    pub data: Vec<u8>,
}

/// A part of a bag that could not be read and was passed over: a corrupt MCAP chunk (its
/// messages are lost; those before and after it are read).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    pub file: PathBuf,
    /// Where the part starts in the file, and its length, bytes.
    pub offset: u64,
    pub bytes: u64,
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} bytes at offset {} skipped: {}",
            self.file.display(),
            self.bytes,
            self.offset,
            self.reason
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub type_name: String,
    pub count: u64,
}

/// An opened bag: one or more storage files of one kind, read in order.
pub enum Bag {
    Mcap(Vec<McapFile>),
    Db3(Vec<Db3File>),
}

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

impl Bag {
    /// Open a bag directory (with or without `metadata.yaml`) or a single `.mcap` / `.db3` file.
    pub fn open(path: &Path) -> Result<Self, BagError> {
        let io = |p: &Path, e: std::io::Error| BagError::Io {
            path: p.to_path_buf(),
            source: Cause::new(e),
        };
        if path.is_dir() {
            let meta = path.join("metadata.yaml");
            let (storage, mut files): (String, Vec<PathBuf>) = if meta.is_file() {
                let info = metadata::read(&meta)?;
                (
                    info.storage_identifier,
                    info.relative_file_paths
                        .iter()
                        .map(|f| path.join(f))
                        .collect(),
                )
            } else {
                let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                    .map_err(|e| io(path, e))?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .collect();
                files.sort();
                let storage = if files.iter().any(|f| has_ext(f, "mcap")) {
                    "mcap"
                } else {
                    "sqlite3"
                };
                let ext = if storage == "mcap" { "mcap" } else { "db3" };
                files.retain(|f| has_ext(f, ext));
                (storage.to_string(), files)
            };
            if files.is_empty() {
                return Err(BagError::NotABag {
                    path: path.to_path_buf(),
                    reason: "no storage files (.mcap or .db3) in the bag".into(),
                });
            }
            files.sort();
            return match storage.as_str() {
                "mcap" => Ok(Self::Mcap(
                    files
                        .iter()
                        .map(|f| McapFile::open(f))
                        .collect::<Result<_, _>>()?,
                )),
                "sqlite3" => Ok(Self::Db3(
                    files
                        .iter()
                        .map(|f| Db3File::open(f))
                        .collect::<Result<_, _>>()?,
                )),
                other => Err(BagError::UnknownStorage {
                    path: path.to_path_buf(),
                    storage: other.to_string(),
                }),
            };
        }
        let mut head = [0u8; 16];
        let n = std::io::Read::read(
            &mut std::fs::File::open(path).map_err(|e| io(path, e))?,
            &mut head,
        )
        .map_err(|e| io(path, e))?;
        if head[..n].starts_with(mcap::MAGIC) {
            Ok(Self::Mcap(vec![McapFile::open(path)?]))
        } else if head[..n].starts_with(SQLITE_MAGIC) {
            Ok(Self::Db3(vec![Db3File::open(path)?]))
        } else {
            Err(BagError::UnknownStorage {
                path: path.to_path_buf(),
                storage: "neither MCAP nor SQLite".into(),
            })
        }
    }

    pub fn storage(&self) -> &'static str {
        match self {
            Self::Mcap(_) => "mcap",
            Self::Db3(_) => "sqlite3",
        }
    }

    /// Topics with their types and message counts, over all files, by name.
    pub fn topics(&self) -> Result<Vec<TopicInfo>, BagError> {
        let per_file = match self {
            Self::Mcap(files) => files
                .iter()
                .map(McapFile::topics)
                .collect::<Result<Vec<_>, _>>()?,
            Self::Db3(files) => files
                .iter()
                .map(Db3File::topics)
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(merge_topics(per_file.into_iter().flatten()))
    }

    /// Every message of every file, in storage order, for the callback; returns the parts of
    /// the bag that were passed over as unreadable (corrupt MCAP chunks).
    pub fn for_each(
        &self,
        mut f: impl FnMut(BagMessage) -> Result<(), BagError>,
    ) -> Result<Vec<Skipped>, BagError> {
        let mut skipped = Vec::new();
        match self {
            Self::Mcap(files) => {
                for file in files {
                    skipped.extend(file.for_each(&mut f)?);
                }
            }
            Self::Db3(files) => files.iter().try_for_each(|file| file.for_each(&mut f))?,
        }
        Ok(skipped)
    }
}

/// One entry per topic name (counts added up), sorted by name.
fn merge_topics(topics: impl IntoIterator<Item = TopicInfo>) -> Vec<TopicInfo> {
    let mut out: Vec<TopicInfo> = Vec::new();
    for t in topics {
        match out.iter_mut().find(|o| o.name == t.name) {
            Some(o) => o.count += t.count,
            None => out.push(t),
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn has_ext(p: &Path, ext: &str) -> bool {
    p.extension().is_some_and(|e| e == ext)
}
