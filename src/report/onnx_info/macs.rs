//! Multiply-accumulates of one inference, by static shape inference over the graph: Conv, Gemm
//! and MatMul count (the convention of PyTorch's FlopCounterMode, thop and ptflops: element-wise
//! operations, pooling and activations are free; FLOPs = 2 x MACs). Covers the operators of
//! CNN classifiers (convolutions, pooling, element-wise, reshapes); anything else is an error
//! naming the operator rather than a wrong count.

use std::collections::HashMap;

use super::graph::{Attr, Graph, Node};
use super::OnnxInfoError;

type Shape = Vec<i64>;

struct Shapes<'g> {
    graph: &'g Graph,
    known: HashMap<&'g str, Shape>,
    /// Values of small integer tensors computed from Constant nodes.
    constants: HashMap<&'g str, Vec<i64>>,
}

fn unsupported(node: &Node, why: &str) -> OnnxInfoError {
    OnnxInfoError::Unsupported {
        op: node.op.clone(),
        why: why.to_string(),
    }
}

impl<'g> Shapes<'g> {
    fn shape(&self, node: &Node, i: usize) -> Result<&Shape, OnnxInfoError> {
        let name = node.inputs.get(i).map_or("", String::as_str);
        self.known
            .get(name)
            .or_else(|| self.graph.initializer(name).map(|t| &t.dims))
            .ok_or_else(|| unsupported(node, &format!("input {i} ({name:?}) has no known shape")))
    }

    /// The values of a constant integer input (initializer or Constant node), if present.
    fn ints(&self, node: &Node, i: usize) -> Option<Vec<i64>> {
        let name = node
            .inputs
            .get(i)
            .map(String::as_str)
            .filter(|n| !n.is_empty())?;
        self.constants
            .get(name)
            .cloned()
            .or_else(|| self.graph.initializer(name).and_then(|t| t.ints.clone()))
    }

    /// An axes-like argument: attribute (older opsets) or constant input (newer ones).
    fn list(&self, node: &Node, attr: &str, input: usize) -> Option<Vec<i64>> {
        node.ints(attr)
            .map(<[i64]>::to_vec)
            .or_else(|| self.ints(node, input))
    }
}

fn axis(a: i64, rank: usize) -> usize {
    if a < 0 {
        (a + rank as i64).max(0) as usize
    } else {
        a as usize
    }
}

fn broadcast(a: &[i64], b: &[i64]) -> Shape {
    let n = a.len().max(b.len());
    let get = |s: &[i64], i: usize| {
        let off = n - s.len();
        if i < off {
            1
        } else {
            s[i - off]
        }
    };
    (0..n).map(|i| get(a, i).max(get(b, i))).collect()
}

/// Output spatial size of a convolution or pooling window.
fn window(node: &Node, input: &[i64], kernel: &[i64]) -> Result<Shape, OnnxInfoError> {
    let n = kernel.len();
    let strides = node.ints("strides").map_or(vec![1; n], <[i64]>::to_vec);
    let dil = node.ints("dilations").map_or(vec![1; n], <[i64]>::to_vec);
    let pads = node.ints("pads").map_or(vec![0; 2 * n], <[i64]>::to_vec);
    let ceil = node.int("ceil_mode", 0) == 1;
    if input.len() != n + 2 || strides.len() != n || dil.len() != n || pads.len() != 2 * n {
        return Err(unsupported(node, "inconsistent window attributes"));
    }
    let auto = node.str("auto_pad").unwrap_or("NOTSET");
    (0..n)
        .map(|i| {
            if auto.starts_with("SAME") {
                return Ok((input[i + 2] + strides[i] - 1) / strides[i].max(1));
            }
            let pads = if auto == "VALID" {
                [0, 0]
            } else {
                [pads[i], pads[i + n]]
            };
            let span = dil[i] * (kernel[i] - 1) + 1;
            let room = input[i + 2] + pads[0] + pads[1] - span;
            if room < 0 || strides[i] <= 0 {
                return Err(unsupported(node, "window larger than its input"));
            }
            let s = strides[i];
            Ok(if ceil { (room + s - 1) / s } else { room / s } + 1)
        })
        .collect()
}

/// Output shapes of one node and the MACs it costs.
fn infer(s: &Shapes, node: &Node) -> Result<(Vec<Shape>, u64), OnnxInfoError> {
    let x = || s.shape(node, 0).cloned();
    let one = |shape: Shape| Ok((vec![shape], 0));
    match node.op.as_str() {
        "Conv" => {
            let (x, w) = (x()?, s.shape(node, 1)?.clone());
            if w.len() < 3 || x.len() != w.len() {
                return Err(unsupported(node, "weights and input ranks differ"));
            }
            let spatial = window(node, &x, &w[2..])?;
            let mut out = vec![x[0], w[0]];
            out.extend(&spatial);
            let per_output: i64 = w[1..].iter().product();
            let macs = out.iter().product::<i64>() * per_output;
            Ok((vec![out], macs.max(0) as u64))
        }
        "Gemm" => {
            let (a, b) = (x()?, s.shape(node, 1)?.clone());
            let (m, k) = if node.int("transA", 0) == 1 {
                (a[1], a[0])
            } else {
                (a[0], a[1])
            };
            let n = if node.int("transB", 0) == 1 {
                b[0]
            } else {
                b[1]
            };
            Ok((vec![vec![m, n]], (m * k * n).max(0) as u64))
        }
        "MatMul" => {
            let (a, b) = (x()?, s.shape(node, 1)?.clone());
            if a.len() < 2 || b.len() < 2 {
                return Err(unsupported(node, "vector operands"));
            }
            let mut out = broadcast(&a[..a.len() - 2], &b[..b.len() - 2]);
            out.extend([a[a.len() - 2], b[b.len() - 1]]);
            let macs = out.iter().product::<i64>() * a[a.len() - 1];
            Ok((vec![out], macs.max(0) as u64))
        }
        "MaxPool" | "AveragePool" | "LpPool" => {
            let x = x()?;
            let k = node
                .ints("kernel_shape")
                .ok_or_else(|| unsupported(node, "no kernel_shape"))?;
            let mut out = x[..2].to_vec();
            out.extend(window(node, &x, k)?);
            one(out)
        }
        "GlobalAveragePool" | "GlobalMaxPool" => {
            let x = x()?;
            one(x
                .iter()
                .enumerate()
                .map(|(i, &d)| if i < 2 { d } else { 1 })
                .collect())
        }
        "ReduceMean" | "ReduceMax" | "ReduceSum" | "ReduceMin" => {
            let x = x()?;
            let all: Vec<i64> = (0..x.len() as i64).collect();
            let axes: Vec<usize> = s
                .list(node, "axes", 1)
                .unwrap_or(all)
                .iter()
                .map(|&a| axis(a, x.len()))
                .collect();
            let keep = node.int("keepdims", 1) == 1;
            one(x
                .iter()
                .enumerate()
                .filter_map(|(i, &d)| match (axes.contains(&i), keep) {
                    (false, _) => Some(d),
                    (true, true) => Some(1),
                    (true, false) => None,
                })
                .collect())
        }
        "Flatten" => {
            let x = x()?;
            let a = axis(node.int("axis", 1), x.len()).min(x.len());
            one(vec![x[..a].iter().product(), x[a..].iter().product()])
        }
        "Reshape" => {
            let x = x()?;
            let target = s
                .ints(node, 1)
                .ok_or_else(|| unsupported(node, "shape is not a constant"))?;
            let mut out: Shape = target
                .iter()
                .enumerate()
                .map(|(i, &d)| {
                    if d == 0 {
                        x.get(i).copied().unwrap_or(1)
                    } else {
                        d
                    }
                })
                .collect();
            let known: i64 = out.iter().filter(|&&d| d > 0).product();
            let total: i64 = x.iter().product();
            for d in out.iter_mut().filter(|d| **d < 0) {
                *d = total / known.max(1);
            }
            one(out)
        }
        "Transpose" => {
            let x = x()?;
            let perm: Vec<i64> = node
                .ints("perm")
                .map_or_else(|| (0..x.len() as i64).rev().collect(), <[i64]>::to_vec);
            one(perm
                .iter()
                .map(|&p| x.get(axis(p, x.len())).copied().unwrap_or(1))
                .collect())
        }
        "Concat" => {
            let mut out = x()?;
            let a = axis(node.int("axis", 0), out.len());
            for i in 1..node.inputs.len() {
                out[a] += s.shape(node, i)?.get(a).copied().unwrap_or(0);
            }
            one(out)
        }
        "Pad" => {
            let mut out = x()?;
            let pads = s
                .list(node, "pads", 1)
                .ok_or_else(|| unsupported(node, "pads are not constant"))?;
            let n = out.len();
            for (i, d) in out.iter_mut().enumerate() {
                *d += pads.get(i).copied().unwrap_or(0) + pads.get(i + n).copied().unwrap_or(0);
            }
            one(out)
        }
        "Squeeze" => {
            let x = x()?;
            let axes: Vec<usize> = s
                .list(node, "axes", 1)
                .map(|a| a.iter().map(|&a| axis(a, x.len())).collect())
                .unwrap_or_else(|| (0..x.len()).filter(|&i| x[i] == 1).collect());
            one(x
                .iter()
                .enumerate()
                .filter(|(i, _)| !axes.contains(i))
                .map(|(_, &d)| d)
                .collect())
        }
        "Unsqueeze" => {
            let mut out = x()?;
            let axes = s
                .list(node, "axes", 1)
                .ok_or_else(|| unsupported(node, "axes are not constant"))?;
            let rank = out.len() + axes.len();
            let mut axes: Vec<usize> = axes.iter().map(|&a| axis(a, rank)).collect();
            axes.sort_unstable();
            for a in axes {
                out.insert(a.min(out.len()), 1);
            }
            one(out)
        }
        "Add" | "Sub" | "Mul" | "Div" | "Pow" | "Max" | "Min" | "PRelu" | "Where" | "Sum" => {
            let mut out = x()?;
            for i in 1..node.inputs.len() {
                out = broadcast(&out, s.shape(node, i)?);
            }
            one(out)
        }
        "Relu"
        | "LeakyRelu"
        | "Clip"
        | "Sigmoid"
        | "HardSigmoid"
        | "HardSwish"
        | "Tanh"
        | "Softmax"
        | "LogSoftmax"
        | "BatchNormalization"
        | "Dropout"
        | "Identity"
        | "Cast"
        | "Sqrt"
        | "Exp"
        | "Neg"
        | "Abs"
        | "Elu"
        | "Selu"
        | "Erf"
        | "Softplus"
        | "InstanceNormalization"
        | "LRN"
        | "QuantizeLinear"
        | "DequantizeLinear" => one(x()?),
        _ => Err(unsupported(node, "not covered by the MAC counter")),
    }
}

/// MACs of one inference with the (single) graph input set to `input` (for example
/// [1, 1, 48, 48]).
pub fn count(graph: &Graph, input: &[i64]) -> Result<u64, OnnxInfoError> {
    let [(name, _)] = graph.inputs.as_slice() else {
        return Err(OnnxInfoError::Unsupported {
            op: "graph".into(),
            why: format!("{} inputs, expected one", graph.inputs.len()),
        });
    };
    let mut s = Shapes {
        graph,
        known: HashMap::from([(name.as_str(), input.to_vec())]),
        constants: HashMap::new(),
    };
    let mut total = 0;
    for node in &graph.nodes {
        if node.op == "Constant" {
            if let (Some(out), Some(Attr::Tensor(t))) =
                (node.outputs.first(), node.attrs.get("value"))
            {
                s.known.insert(out, t.dims.clone());
                if let Some(v) = &t.ints {
                    s.constants.insert(out, v.clone());
                }
            }
            continue;
        }
        let (shapes, macs) = infer(&s, node)?;
        total += macs;
        for (out, shape) in node.outputs.iter().zip(shapes) {
            s.known.insert(out, shape);
        }
    }
    Ok(total)
}
