//! Write result bags: MCAP with `ros2msg` schemas and CDR messages, as rosbag2 writes them.
//! Output goes to `<name>.partial` and is renamed only by [`BagWriter::finish`], so an
//! interrupted run never leaves a file that looks complete.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::msgs::{to_cdr, RosMessage};
use super::{schema, BagError};
use crate::Cause;

pub struct BagWriter {
    writer: mcap::Writer<BufWriter<File>>,
    channels: HashMap<String, u16>,
    sequence: u32,
    partial: PathBuf,
    path: PathBuf,
}

impl BagWriter {
    pub fn create(path: &Path) -> Result<Self, BagError> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let io = |e: std::io::Error| BagError::Io {
            path: partial.clone(),
            source: Cause::new(e),
        };
        let file = File::create(&partial).map_err(io)?;
        // Fixed profile/library strings and no timestamps of our own: two runs over the same
        // input write byte-identical files.
        let options = mcap::WriteOptions::new()
            .profile("ros2")
            .library("masked_fer")
            .compression(Some(mcap::Compression::Zstd));
        let writer = options
            .create(BufWriter::new(file))
            .map_err(|e| BagError::Io {
                path: partial.clone(),
                source: Cause::new(e),
            })?;
        Ok(Self {
            writer,
            channels: HashMap::new(),
            sequence: 0,
            partial,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, e: mcap::McapError) -> BagError {
        BagError::Io {
            path: self.partial.clone(),
            source: Cause::new(e),
        }
    }

    /// Write one message on `topic`, stamped `time_ns`.
    pub fn write<M: RosMessage>(
        &mut self,
        topic: &str,
        time_ns: u64,
        msg: &M,
    ) -> Result<(), BagError> {
        let type_name = M::TYPE;
        let channel = match self.channels.get(topic) {
            Some(&c) => c,
            None => {
                let text = schema::ros2msg(type_name).ok_or_else(|| BagError::Message {
                    type_name: type_name.into(),
                    reason: "no message definition to embed".into(),
                })?;
                let schema_id = self
                    .writer
                    .add_schema(type_name, "ros2msg", text.as_bytes())
                    .map_err(|e| self.err(e))?;
                let c = self
                    .writer
                    .add_channel(schema_id, topic, "cdr", &BTreeMap::new())
                    .map_err(|e| self.err(e))?;
                self.channels.insert(topic.to_string(), c);
                c
            }
        };
        self.sequence += 1;
        let header = mcap::records::MessageHeader {
            channel_id: channel,
            sequence: self.sequence,
            log_time: time_ns,
            publish_time: time_ns,
        };
        let data = to_cdr(msg)?;
        self.writer
            .write_to_known_channel(&header, &data)
            .map_err(|e| self.err(e))
    }

    /// Write the summary and move the file to its final name.
    pub fn finish(mut self) -> Result<PathBuf, BagError> {
        self.writer.finish().map_err(|e| self.err(e))?;
        let partial = self.partial.clone();
        let inner = self.writer.into_inner();
        inner
            .into_inner()
            .map_err(|e| BagError::Io {
                path: partial.clone(),
                source: Cause::new(e),
            })?
            .sync_all()
            .map_err(|e| BagError::Io {
                path: partial.clone(),
                source: Cause::new(e),
            })?;
        std::fs::rename(&partial, &self.path).map_err(|e| BagError::Io {
            path: self.path.clone(),
            source: Cause::new(e),
        })?;
        Ok(self.path)
    }
}
