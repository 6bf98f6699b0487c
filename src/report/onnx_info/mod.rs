//! Facts read straight from an ONNX file, without a protobuf library (ONNX Runtime exposes
//! neither initializers nor intermediate shapes): the number of weights, and the
//! multiply-accumulates of one inference at a given input shape.

mod graph;
mod macs;
mod protobuf;

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum OnnxInfoError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("malformed ONNX protobuf: {0}")]
    Malformed(String),
    #[error("cannot count through {op}: {why}")]
    Unsupported { op: String, why: String },
}

fn read_graph(path: &Path) -> Result<graph::Graph, OnnxInfoError> {
    let bytes = std::fs::read(path).map_err(|source| OnnxInfoError::Io {
        path: path.display().to_string(),
        source,
    })?;
    graph::parse(&bytes)
}

/// Total number of weight elements (all initializers) of an ONNX model.
pub fn weight_count(path: &Path) -> Result<u64, OnnxInfoError> {
    Ok(read_graph(path)?
        .initializers
        .iter()
        .map(graph::Tensor::elements)
        .sum())
}

/// Multiply-accumulates (Conv, Gemm, MatMul) of one inference with the model's single input set
/// to `input` (for example `[1, 1, 48, 48]`); FLOPs = 2 x MACs.
pub fn macs(path: &Path, input: &[i64]) -> Result<u64, OnnxInfoError> {
    macs::count(&read_graph(path)?, input)
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
    fn counts_macs_like_pytorch() {
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
        let clf = models.join("slim_rgc_masked_fer.onnx");
        // training/results/slim_rgc_improved/metrics.json: FlopCounterMode at 1x1x48x48.
        assert_eq!(macs(&clf, &[1, 1, 48, 48]).unwrap(), 10_848_784);
        // Batch and resolution scale convolutions as they should.
        let at64 = macs(&clf, &[2, 1, 64, 64]).unwrap();
        assert!((2 * 19_000_000..2 * 20_000_000).contains(&at64), "{at64}");
        let blaze = macs(
            &models.join("blazeface_short_range.onnx"),
            &[1, 3, 128, 128],
        );
        assert!(blaze.is_ok(), "{blaze:?}");
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
