//! Messages of a sqlite3 rosbag2 file (`.db3`, Humble's default), in timestamp order.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{BagError, BagMessage, TopicInfo};
use crate::Cause;

pub struct Db3File {
    path: PathBuf,
    conn: Connection,
}

impl Db3File {
    pub fn open(path: &Path) -> Result<Self, BagError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| BagError::Io {
            path: path.to_path_buf(),
            source: Cause::new(e),
        })?;
        let me = Self {
            path: path.to_path_buf(),
            conn,
        };
        // Touch the schema now so that a file that is not a bag fails here, with its name.
        me.conn
            .query_row("SELECT count(*) FROM topics", [], |_| Ok(()))
            .map_err(|e| me.corrupt(e))?;
        Ok(me)
    }

    fn corrupt(&self, e: rusqlite::Error) -> BagError {
        BagError::Corrupt {
            path: self.path.clone(),
            source: Cause::new(e),
        }
    }

    pub fn topics(&self) -> Result<Vec<TopicInfo>, BagError> {
        let mut stmt = self
            .conn
            .prepare("SELECT t.name, t.type, (SELECT count(*) FROM messages m WHERE m.topic_id = t.id) FROM topics t ORDER BY t.name")
            .map_err(|e| self.corrupt(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(TopicInfo {
                    name: r.get(0)?,
                    type_name: r.get(1)?,
                    count: r.get::<_, i64>(2)? as u64,
                })
            })
            .map_err(|e| self.corrupt(e))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.corrupt(e))
    }

    /// Every message, by timestamp then id, for the callback; stops at the first error.
    pub fn for_each(
        &self,
        mut f: impl FnMut(BagMessage) -> Result<(), BagError>,
    ) -> Result<(), BagError> {
        let mut stmt = self
            .conn
            .prepare("SELECT t.name, t.type, m.timestamp, m.data FROM messages m JOIN topics t ON m.topic_id = t.id ORDER BY m.timestamp, m.id")
            .map_err(|e| self.corrupt(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.corrupt(e))?;
        while let Some(r) = rows.next().map_err(|e| self.corrupt(e))? {
            let msg = BagMessage {
                topic: r.get(0).map_err(|e| self.corrupt(e))?,
                type_name: r.get(1).map_err(|e| self.corrupt(e))?,
                log_time: r.get::<_, i64>(2).map_err(|e| self.corrupt(e))? as u64,
                data: r.get(3).map_err(|e| self.corrupt(e))?,
            };
            f(msg)?;
        }
        Ok(())
    }
}
