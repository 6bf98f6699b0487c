//! A minimal protobuf wire-format reader: enough to walk an ONNX file without a protobuf library.

use super::OnnxInfoError;

/// One field: number, wire type, payload (length-delimited and fixed-width fields) and value
/// (varints).
pub type Field<'a> = (u64, u8, &'a [u8], u64);

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

pub fn fields(buf: &[u8]) -> Reader<'_> {
    Reader { buf, pos: 0 }
}

fn malformed(what: &str) -> OnnxInfoError {
    OnnxInfoError::Malformed(what.to_string())
}

impl<'a> Reader<'a> {
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn varint(&mut self) -> Result<u64, OnnxInfoError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| malformed("truncated varint"))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(malformed("varint too long"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], OnnxInfoError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| malformed("field runs past the end"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The next field, or None at the end of the message.
    pub fn field(&mut self) -> Result<Option<Field<'a>>, OnnxInfoError> {
        if self.at_end() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wire) = (key >> 3, (key & 7) as u8);
        Ok(Some(match wire {
            0 => (num, wire, &[][..], self.varint()?),
            1 => (num, wire, self.take(8)?, 0),
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| malformed("length"))?;
                (num, wire, self.take(n)?, 0)
            }
            5 => (num, wire, self.take(4)?, 0),
            w => return Err(OnnxInfoError::Malformed(format!("wire type {w}"))),
        }))
    }
}

/// Repeated int64 values of one field: packed (one length-delimited payload) or one varint.
pub fn push_ints(
    out: &mut Vec<i64>,
    wire: u8,
    data: &[u8],
    value: u64,
) -> Result<(), OnnxInfoError> {
    match wire {
        0 => out.push(value as i64),
        2 => {
            let mut p = fields(data);
            while !p.at_end() {
                out.push(p.varint()? as i64);
            }
        }
        _ => return Err(malformed("int64 field with an unexpected wire type")),
    }
    Ok(())
}
