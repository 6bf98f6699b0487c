//! Messages of an MCAP rosbag2 file, in file order, through the `mcap` crate.

use std::fs::File;
use std::path::Path;

use memmap2::Mmap;

use super::{BagError, BagMessage, TopicInfo};
use crate::Cause;

pub struct McapFile {
    path: std::path::PathBuf,
    map: Mmap,
}

impl McapFile {
    pub fn open(path: &Path) -> Result<Self, BagError> {
        let io = |e: std::io::Error| BagError::Io {
            path: path.to_path_buf(),
            source: Cause::new(e),
        };
        let file = File::open(path).map_err(io)?;
        // SAFETY: the bag is opened read-only; a bag rewritten by another process while we read
        // it is outside what any bag reader can handle.
        let map = unsafe { Mmap::map(&file) }.map_err(io)?;
        if !map.starts_with(mcap::MAGIC) {
            return Err(BagError::NotABag {
                path: path.to_path_buf(),
                reason: "not an MCAP file (bad magic)".into(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            map,
        })
    }

    /// Topics from the summary section (channels and message counts); a file without one
    /// (cut off while recording) is scanned up to where it is readable.
    pub fn topics(&self) -> Result<Vec<TopicInfo>, BagError> {
        if let Ok(Some(summary)) = mcap::Summary::read(&self.map) {
            let counts = summary
                .stats
                .map(|s| s.channel_message_counts)
                .unwrap_or_default();
            let topics = summary.channels.values().map(|c| TopicInfo {
                name: c.topic.clone(),
                type_name: c
                    .schema
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                count: counts.get(&c.id).copied().unwrap_or(0),
            });
            return Ok(super::merge_topics(topics));
        }
        let mut seen = Vec::new();
        // The error that ends a truncated file is reported when its messages are read.
        let _ = self.for_each(|m| {
            seen.push(TopicInfo {
                name: m.topic,
                type_name: m.type_name,
                count: 1,
            });
            Ok(())
        });
        Ok(super::merge_topics(seen))
    }

    /// Every message in file order, for the callback; stops at the first error (a truncated
    /// file fails after its last readable message).
    pub fn for_each(
        &self,
        mut f: impl FnMut(BagMessage) -> Result<(), BagError>,
    ) -> Result<(), BagError> {
        let corrupt = |e: mcap::McapError| BagError::Corrupt {
            path: self.path.clone(),
            source: Cause::new(e),
        };
        for m in mcap::MessageStream::new(&self.map).map_err(corrupt)? {
            let m = m.map_err(corrupt)?;
            f(BagMessage {
                topic: m.channel.topic.clone(),
                type_name: m
                    .channel
                    .schema
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                log_time: m.log_time,
                data: m.data.into_owned(),
            })?;
        }
        Ok(())
    }
}
