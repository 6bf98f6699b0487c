//! Facts read straight from an ONNX file's protobuf, without a protobuf library: the number of
//! weights (elements of every graph initializer). ONNX Runtime does not expose initializers.
//!
//! Wire format: ModelProto.graph = field 7; GraphProto.initializer = field 5 (TensorProto);
//! TensorProto.dims = field 1 (int64, packed or not).

use std::path::Path;

/// One protobuf field: number, wire type, payload (length-delimited) and value (varint).
type Field<'a> = (u64, u8, &'a [u8], u64);

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    /// The next field: (number, wire type, payload for length-delimited fields, value for varints).
    fn field(&mut self) -> Result<Option<Field<'a>>, String> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (num, wire) = (key >> 3, (key & 7) as u8);
        let skip = |r: &mut Self, n: usize| -> Result<&'a [u8], String> {
            let end = r.pos.checked_add(n).filter(|&e| e <= r.buf.len());
            let end = end.ok_or("field runs past the end")?;
            let s = &r.buf[r.pos..end];
            r.pos = end;
            Ok(s)
        };
        Ok(Some(match wire {
            0 => (num, wire, &[][..], self.varint()?),
            1 => (num, wire, skip(self, 8)?, 0),
            2 => {
                let n = self.varint()? as usize;
                (num, wire, skip(self, n)?, 0)
            }
            5 => (num, wire, skip(self, 4)?, 0),
            w => return Err(format!("unsupported wire type {w}")),
        }))
    }
}

fn fields(buf: &[u8]) -> Reader<'_> {
    Reader { buf, pos: 0 }
}

fn tensor_elements(tensor: &[u8]) -> Result<u64, String> {
    let mut dims = Vec::new();
    let mut r = fields(tensor);
    while let Some((num, wire, data, value)) = r.field()? {
        match (num, wire) {
            (1, 0) => dims.push(value),
            (1, 2) => {
                let mut p = fields(data);
                while p.pos < data.len() {
                    dims.push(p.varint()?);
                }
            }
            _ => {}
        }
    }
    Ok(dims.iter().product())
}

/// Total number of weight elements (all initializers) of an ONNX model.
pub fn weight_count(path: &Path) -> Result<u64, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut total = 0;
    let mut model = fields(&bytes);
    while let Some((num, wire, graph, _)) = model.field()? {
        if (num, wire) != (7, 2) {
            continue;
        }
        let mut g = fields(graph);
        while let Some((num, wire, tensor, _)) = g.field()? {
            if (num, wire) == (5, 2) {
                total += tensor_elements(tensor)?;
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_shipped_models_weights() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let n = weight_count(&models.join("slim_rgc_masked_fer.onnx")).unwrap();
        // 752,296 trainable parameters in PyTorch; the export folds batch norms into the
        // convolutions, so the graph holds somewhat fewer numbers.
        assert!((600_000..800_000).contains(&n), "{n}");
        let r = weight_count(&models.join("retinaface_mnet025.onnx")).unwrap();
        assert!((400_000..500_000).contains(&r), "{r}");
    }

    #[test]
    fn reads_packed_and_unpacked_dims() {
        // graph { initializer { dims: 2, dims: 3 }, initializer { dims: [4] packed } }
        let t1 = [0x08, 2, 0x08, 3];
        let t2 = [0x0a, 1, 4];
        let mut graph = vec![0x2a, t1.len() as u8];
        graph.extend(t1);
        graph.extend([0x2a, t2.len() as u8]);
        graph.extend(t2);
        let mut model = vec![0x08, 7]; // ir_version
        model.extend([0x3a, graph.len() as u8]);
        model.extend(graph);
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), &model).unwrap();
        assert_eq!(weight_count(f.path()).unwrap(), 10);
        std::fs::write(f.path(), &model[..model.len() - 2]).unwrap();
        assert!(weight_count(f.path()).is_err(), "truncated");
    }
}
