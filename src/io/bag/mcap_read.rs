//! Messages of an MCAP rosbag2 file, in file order, read here record by record (the format is
//! opcode, length, body): the data section's schemas, channels and messages, chunks
//! decompressed (zstd, lz4) and checked against their CRC, every length checked against what
//! holds it and no chunk above [`MAX_RECORD`] bytes. The `mcap` crate writes our bags but does
//! not read outside ones: fuzzing its readers found a 3 GB allocation from a 7 KB file (a string
//! length trusted) and arithmetic overflows on corrupt chunks (RELIABILITY.md).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use memmap2::Mmap;

use super::{BagError, BagMessage, Skipped, TopicInfo};
use crate::Cause;

/// The largest record (a chunk decompressed included) a bag may hold: a 4K rgb8 frame is 25 MB,
/// and rosbag2 writes chunks of about 1 MB.
pub const MAX_RECORD: usize = 256 << 20;

const SCHEMA: u8 = 0x03;
const CHANNEL: u8 = 0x04;
const MESSAGE: u8 = 0x05;
const CHUNK: u8 = 0x06;
const DATA_END: u8 = 0x0F;

pub struct McapFile {
    path: std::path::PathBuf,
    map: Mmap,
}

/// A record that does not hold what its type says it holds.
#[derive(Debug, thiserror::Error)]
#[error("{record} record: {what}")]
pub struct BadRecord {
    record: &'static str,
    what: String,
}

/// A channel as messages refer to it: topic and message type.
struct Channel {
    topic: String,
    type_name: String,
}

/// What the file holds, in order, for [`McapFile::walk`].
enum Event<'a> {
    Channel(&'a Channel),
    Message {
        channel: &'a Channel,
        log_time: u64,
        data: &'a [u8],
    },
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

    /// Topics (every channel, with its message count), from one pass over the file; a file cut
    /// off while recording counts what is readable (its error comes when messages are read).
    pub fn topics(&self) -> Result<Vec<TopicInfo>, BagError> {
        let mut seen: Vec<TopicInfo> = Vec::new();
        let _ = self.walk(|event| {
            let (c, count) = match event {
                Event::Channel(c) => (c, 0),
                Event::Message { channel, .. } => (channel, 1),
            };
            match seen
                .iter_mut()
                .find(|t| t.name == c.topic && t.type_name == c.type_name)
            {
                Some(t) => t.count += count,
                None => seen.push(TopicInfo {
                    name: c.topic.clone(),
                    type_name: c.type_name.clone(),
                    count,
                }),
            }
            Ok(())
        });
        Ok(super::merge_topics(seen))
    }

    /// Every message in file order, for the callback; stops at the first error (a truncated
    /// file fails after its last readable message). A chunk that cannot be read (corrupt,
    /// bad CRC) is passed over, its records framed by the file's own: returned as [`Skipped`].
    pub fn for_each(
        &self,
        mut f: impl FnMut(BagMessage) -> Result<(), BagError>,
    ) -> Result<Vec<Skipped>, BagError> {
        self.walk(|event| match event {
            Event::Channel(_) => Ok(()),
            Event::Message {
                channel,
                log_time,
                data,
            } => f(BagMessage {
                topic: channel.topic.clone(),
                type_name: channel.type_name.clone(),
                log_time,
                data: data.to_vec(),
            }),
        })
    }

    /// The file's channels and messages in order, schemas linked to channels by id, up to the
    /// end of the data section (a file cut off before it is an error after its last message).
    /// A chunk whose contents are corrupt is skipped (the rest of it, when some of its records
    /// were read) and named in the result: the next chunk starts where the file's record says.
    fn walk(
        &self,
        mut f: impl FnMut(Event<'_>) -> Result<(), BagError>,
    ) -> Result<Vec<Skipped>, BagError> {
        let mut links = Links::default();
        let mut skipped = Vec::new();
        let data = &self.map[mcap::MAGIC.len()..];
        walk_records(data, true, &mut |opcode, offset, body| {
            if opcode != CHUNK {
                return links.record(opcode, body, &mut f);
            }
            let read = unchunk(body).map_err(WalkError::from).and_then(|records| {
                walk_records(&records, false, &mut |opcode, _, body| {
                    links.record(opcode, body, &mut f)
                })
            });
            match read {
                Err(WalkError::Record(e)) => {
                    skipped.push(Skipped {
                        file: self.path.clone(),
                        offset: (offset + mcap::MAGIC.len()) as u64,
                        bytes: body.len() as u64,
                        reason: e.to_string(),
                    });
                    Ok(())
                }
                other => other,
            }
        })
        .map_err(|e| self.or_corrupt(e))?;
        Ok(skipped)
    }

    fn corrupt(&self, e: BadRecord) -> BagError {
        BagError::Corrupt {
            path: self.path.clone(),
            source: Cause::new(e),
        }
    }

    /// A record error as this file's [`BagError::Corrupt`]; the callback's errors as they are.
    fn or_corrupt(&self, e: WalkError) -> BagError {
        match e {
            WalkError::Record(e) => self.corrupt(e),
            WalkError::Bag(e) => e,
        }
    }
}

/// Why a walk over records stopped.
enum WalkError {
    Record(BadRecord),
    Bag(BagError),
}

impl From<BadRecord> for WalkError {
    fn from(e: BadRecord) -> Self {
        WalkError::Record(e)
    }
}

impl From<BagError> for WalkError {
    fn from(e: BagError) -> Self {
        WalkError::Bag(e)
    }
}

/// Each record of `bytes` (opcode, its offset in `bytes`, body) in order; in the data section
/// (`top`) up to the data end record, which must come.
fn walk_records<'a>(
    bytes: &'a [u8],
    top: bool,
    f: &mut dyn FnMut(u8, usize, &'a [u8]) -> Result<(), WalkError>,
) -> Result<(), WalkError> {
    let mut r = Fields {
        record: if top { "file" } else { "chunk" },
        rest: bytes,
    };
    loop {
        if r.rest.is_empty() {
            return match top {
                true => Err(record_error("file", "ends before its data end record".into()).into()),
                false => Ok(()),
            };
        }
        let offset = bytes.len() - r.rest.len();
        let opcode = r.int::<1>("opcode")?[0];
        let len = usize::try_from(r.u64("record length")?).unwrap_or(usize::MAX);
        let body = r.bytes(len, "record")?;
        if top && opcode == DATA_END {
            return Ok(());
        }
        f(opcode, offset, body)?;
    }
}

/// A chunk's records: chunk fields (start and end time u64, uncompressed size u64, uncompressed
/// CRC u32, compression, records length u64, records), decompressed and checked.
fn unchunk(body: &[u8]) -> Result<Vec<u8>, BadRecord> {
    let mut r = Fields {
        record: "chunk",
        rest: body,
    };
    r.bytes(16, "message times")?;
    let size = r.u64("uncompressed size")?;
    let crc = u32::from_le_bytes(r.int("uncompressed crc")?);
    let compression = r.string("compression")?;
    let n = usize::try_from(r.u64("records length")?).unwrap_or(usize::MAX);
    let records = r.bytes(n, "records")?;
    let bad = |what: String| record_error("chunk", what);
    if size > MAX_RECORD as u64 {
        return Err(bad(format!(
            "{size} bytes uncompressed (at most {MAX_RECORD})"
        )));
    }
    // Streams that grow with what they really produce: a size the file declares is not
    // allocated up front.
    let mut out = Vec::new();
    let read = match compression.as_str() {
        "" => {
            out.extend_from_slice(records);
            Ok(records.len())
        }
        "zstd" => zstd::stream::read::Decoder::new(records)
            .and_then(|d| d.take(size).read_to_end(&mut out)),
        "lz4" => lz4::Decoder::new(records).and_then(|d| d.take(size).read_to_end(&mut out)),
        other => return Err(bad(format!("unknown compression {other:?}"))),
    };
    read.map_err(|e| bad(format!("cannot decompress ({compression}): {e}")))?;
    if out.len() as u64 != size {
        return Err(bad(format!(
            "{} bytes uncompressed, {size} declared",
            out.len()
        )));
    }
    if crc != 0 && crc32fast::hash(&out) != crc {
        return Err(bad("records do not match their CRC".into()));
    }
    Ok(out)
}

/// Schemas and channels seen so far, by id, to name each message's topic and type.
#[derive(Default)]
struct Links {
    schemas: HashMap<u16, String>,
    channels: HashMap<u16, Channel>,
}

impl Links {
    fn record(
        &mut self,
        opcode: u8,
        body: &[u8],
        f: &mut impl FnMut(Event<'_>) -> Result<(), BagError>,
    ) -> Result<(), WalkError> {
        match opcode {
            SCHEMA => {
                let (id, name) = schema(body)?;
                self.schemas.insert(id, name);
            }
            CHANNEL => {
                let (id, schema_id, topic) = channel(body)?;
                let type_name =
                    match schema_id {
                        0 => String::new(),
                        s => self.schemas.get(&s).cloned().ok_or_else(|| {
                            record_error("channel", format!("unknown schema {s}"))
                        })?,
                    };
                let c = self
                    .channels
                    .entry(id)
                    .or_insert(Channel { topic, type_name });
                f(Event::Channel(c))?;
            }
            MESSAGE => {
                let (id, log_time, data) = message(body)?;
                let channel = self
                    .channels
                    .get(&id)
                    .ok_or_else(|| record_error("message", format!("unknown channel {id}")))?;
                f(Event::Message {
                    channel,
                    log_time,
                    data,
                })?;
            }
            _ => {}
        }
        Ok(())
    }
}

fn record_error(record: &'static str, what: String) -> BadRecord {
    BadRecord { record, what }
}

/// Little-endian fields of one record, each read only if the record holds it.
struct Fields<'a> {
    record: &'static str,
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    fn bytes(&mut self, n: usize, field: &str) -> Result<&'a [u8], BadRecord> {
        if n > self.rest.len() {
            let what = format!("{field} needs {n} bytes, {} left", self.rest.len());
            return Err(record_error(self.record, what));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn int<const N: usize>(&mut self, field: &str) -> Result<[u8; N], BadRecord> {
        let b = self.bytes(N, field)?;
        Ok(b.try_into().unwrap_or([0; N]))
    }

    fn u16(&mut self, field: &str) -> Result<u16, BadRecord> {
        self.int(field).map(u16::from_le_bytes)
    }

    fn u64(&mut self, field: &str) -> Result<u64, BadRecord> {
        self.int(field).map(u64::from_le_bytes)
    }

    /// A u32-length-prefixed string.
    fn string(&mut self, field: &str) -> Result<String, BadRecord> {
        let n = u32::from_le_bytes(self.int(field)?) as usize;
        let b = self.bytes(n, field)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| record_error(self.record, format!("{field} is not UTF-8")))
    }
}

/// Schema: id u16, name, encoding, data (the name is the ROS message type).
fn schema(data: &[u8]) -> Result<(u16, String), BadRecord> {
    let mut r = Fields {
        record: "schema",
        rest: data,
    };
    Ok((r.u16("id")?, r.string("name")?))
}

/// Channel: id u16, schema id u16, topic, message encoding, metadata.
fn channel(data: &[u8]) -> Result<(u16, u16, String), BadRecord> {
    let mut r = Fields {
        record: "channel",
        rest: data,
    };
    Ok((r.u16("id")?, r.u16("schema id")?, r.string("topic")?))
}

/// Message: channel id u16, sequence u32, log time u64, publish time u64, then its bytes.
fn message(data: &[u8]) -> Result<(u16, u64, &[u8]), BadRecord> {
    let mut r = Fields {
        record: "message",
        rest: data,
    };
    let channel = r.u16("channel id")?;
    r.bytes(4, "sequence")?;
    let log_time = r.u64("log time")?;
    r.bytes(8, "publish time")?;
    Ok((channel, log_time, r.rest))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write;

    use super::*;

    /// A bag written by the `mcap` crate with `compression`: one schema, one channel, 3 messages.
    fn written(compression: Option<mcap::Compression>) -> tempfile::NamedTempFile {
        written_in_chunks(compression, None)
    }

    /// The same with chunks of at most `chunk_size` bytes (one message each when small).
    fn written_in_chunks(
        compression: Option<mcap::Compression>,
        chunk_size: Option<u64>,
    ) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        let mut w = mcap::WriteOptions::new()
            .compression(compression)
            .chunk_size(chunk_size)
            .create(std::io::BufWriter::new(file.reopen().unwrap()))
            .unwrap();
        let schema = w.add_schema("pkg/msg/T", "ros2msg", b"int32 x").unwrap();
        let channel = w
            .add_channel(schema, "/t", "cdr", &BTreeMap::new())
            .unwrap();
        for n in 0..3u32 {
            let header = mcap::records::MessageHeader {
                channel_id: channel,
                sequence: n,
                log_time: 100 + u64::from(n),
                publish_time: 0,
            };
            w.write_to_known_channel(&header, &n.to_le_bytes()).unwrap();
        }
        w.finish().unwrap();
        file
    }

    fn messages(path: &Path) -> Result<Vec<(String, u64, Vec<u8>)>, BagError> {
        let mut out = Vec::new();
        McapFile::open(path)?.for_each(|m| {
            assert_eq!(m.type_name, "pkg/msg/T");
            out.push((m.topic, m.log_time, m.data));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn reads_chunks_of_every_compression() {
        for c in [
            None,
            Some(mcap::Compression::Zstd),
            Some(mcap::Compression::Lz4),
        ] {
            let f = written(c);
            let got = messages(f.path()).unwrap();
            let want: Vec<_> = (0..3u32)
                .map(|n| {
                    (
                        "/t".to_string(),
                        100 + u64::from(n),
                        n.to_le_bytes().to_vec(),
                    )
                })
                .collect();
            assert_eq!(got, want, "{c:?}");
            let topics = McapFile::open(f.path()).unwrap().topics().unwrap();
            assert_eq!((topics[0].name.as_str(), topics[0].count), ("/t", 3));
        }
    }

    #[test]
    fn a_corrupt_chunk_in_the_middle_is_passed_over_and_named() {
        for c in [None, Some(mcap::Compression::Zstd)] {
            let f = written_in_chunks(c, Some(1));
            let mut bytes = std::fs::read(f.path()).unwrap();
            let mut chunks = Vec::new();
            let _ = walk_records(&bytes[mcap::MAGIC.len()..], true, &mut |op, at, body| {
                if op == CHUNK {
                    chunks.push((at + mcap::MAGIC.len(), body.len()));
                }
                Ok(())
            });
            assert_eq!(
                chunks.len(),
                4,
                "schema and channel, then one chunk per message"
            );
            // The last byte of the second message's chunk: its data (or its zstd frame).
            let (at, len) = chunks[2];
            bytes[at + 9 + len - 1] ^= 0xff;
            std::fs::write(f.path(), &bytes).unwrap();
            let mut seen = Vec::new();
            let skipped = McapFile::open(f.path())
                .unwrap()
                .for_each(|m| {
                    seen.push(m.log_time);
                    Ok(())
                })
                .unwrap();
            assert_eq!(
                seen,
                [100, 102],
                "{c:?}: the messages around the corrupt chunk"
            );
            assert_eq!(skipped.len(), 1, "{c:?}");
            assert_eq!(
                (skipped[0].offset, skipped[0].bytes),
                (at as u64, len as u64)
            );
        }
    }

    /// A file of the magic and these records (opcode, body), then a data end record if `end`.
    fn file(records: &[(u8, Vec<u8>)], end: bool) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(mcap::MAGIC).unwrap();
        let end = end.then(|| (DATA_END, vec![0; 4]));
        for (op, body) in records.iter().chain(end.as_ref()) {
            f.write_all(&[*op]).unwrap();
            f.write_all(&(body.len() as u64).to_le_bytes()).unwrap();
            f.write_all(body).unwrap();
        }
        f
    }

    fn string(s: &str) -> Vec<u8> {
        [&(s.len() as u32).to_le_bytes()[..], s.as_bytes()].concat()
    }

    fn chunk(size: u64, crc: u32, compression: &str, records: &[u8]) -> Vec<u8> {
        let mut b = vec![0; 16];
        b.extend(size.to_le_bytes());
        b.extend(crc.to_le_bytes());
        b.extend(string(compression));
        b.extend((records.len() as u64).to_le_bytes());
        b.extend(records);
        b
    }

    /// The one part of `f` passed over, with no message read.
    fn skipped(f: &tempfile::NamedTempFile) -> String {
        let skipped = McapFile::open(f.path())
            .unwrap()
            .for_each(|m| panic!("{m:?}"))
            .unwrap();
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        skipped[0].to_string()
    }

    fn corrupt(f: &tempfile::NamedTempFile) -> String {
        match messages(f.path()) {
            Err(e @ BagError::Corrupt { .. }) => crate::chain(&e),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn corrupt_records_are_errors_not_allocations_or_panics() {
        let schema = [
            &1u16.to_le_bytes()[..],
            &string("pkg/msg/T"),
            &string("ros2msg"),
        ]
        .concat();
        // A channel whose topic declares 4 GB (the crate's reader allocated it: fuzzing).
        let huge = [&[1, 0, 1, 0][..], &u32::MAX.to_le_bytes(), b"/t"].concat();
        let e = corrupt(&file(&[(SCHEMA, schema.clone()), (CHANNEL, huge)], true));
        assert!(
            e.contains("channel record: topic needs 4294967295 bytes"),
            "{e}"
        );
        // Chunks whose contents are corrupt are passed over, named by offset and reason (the
        // records around them are framed by the file): an uncompressed chunk whose record runs
        // past the chunk (the crate's reader overflowed)...
        let inner = [&[MESSAGE][..], &1000u64.to_le_bytes(), &[0; 8]].concat();
        let e = skipped(&file(&[(CHUNK, chunk(17, 0, "", &inner))], true));
        assert!(
            e.contains("bytes at offset 8 skipped: chunk record: record needs 1000 bytes, 8 left"),
            "{e}"
        );
        // ...a chunk declaring a terabyte: refused before anything is decompressed...
        let e = skipped(&file(&[(CHUNK, chunk(1 << 40, 0, "zstd", &[0; 8]))], true));
        assert!(e.contains("1099511627776 bytes uncompressed"), "{e}");
        // ...a chunk that does not match its CRC, one in an unknown compression.
        let e = skipped(&file(&[(CHUNK, chunk(3, 1234, "", &[1, 2, 3]))], true));
        assert!(e.contains("CRC"), "{e}");
        let e = skipped(&file(&[(CHUNK, chunk(3, 0, "brotli", &[1, 2, 3]))], true));
        assert!(e.contains("unknown compression \"brotli\""), "{e}");
        // A message on a channel never defined; a channel on a schema never defined.
        let msg = [&7u16.to_le_bytes()[..], &[0; 20]].concat();
        assert!(corrupt(&file(&[(MESSAGE, msg)], true)).contains("unknown channel 7"));
        let ch = [&[1, 0, 9, 0][..], &string("/t")].concat();
        assert!(corrupt(&file(&[(CHANNEL, ch)], true)).contains("unknown schema 9"));
        // Cut off: the messages before the cut, then the error.
        let ch = [&[1, 0, 1, 0][..], &string("/t")].concat();
        let msg = [&1u16.to_le_bytes()[..], &[0; 20], b"xyz"].concat();
        let f = file(&[(SCHEMA, schema), (CHANNEL, ch), (MESSAGE, msg)], false);
        let mut seen = 0;
        let e = McapFile::open(f.path()).unwrap().for_each(|m| {
            assert_eq!(m.data, b"xyz");
            seen += 1;
            Ok(())
        });
        assert_eq!(seen, 1);
        assert!(crate::chain(&e.unwrap_err()).contains("ends before its data end record"));
    }
}
