//! The parts of an ONNX graph that shape inference needs: nodes with their attributes, the
//! initializers' dims (and values, for small integer tensors such as Reshape targets) and the
//! declared shapes of the graph inputs.
//!
//! Field numbers (onnx.proto): ModelProto.graph 7; GraphProto node 1, initializer 5, input 11;
//! NodeProto input 1, output 2, op_type 4, attribute 5; AttributeProto name 1, i 3, s 4, t 5, ints 8;
//! TensorProto dims 1, data_type 2, int32_data 5, int64_data 7, name 8, raw_data 9;
//! ValueInfoProto name 1, type 2 → tensor_type 1 → shape 2 → dim 1 → dim_value 1.

use std::collections::HashMap;

use super::protobuf::{fields, push_ints};
use super::OnnxInfoError;

/// Integer tensors up to this many elements keep their values (shape and axis arguments).
const MAX_KEPT_VALUES: u64 = 64;

#[derive(Debug, Clone, Default)]
pub struct Tensor {
    pub name: String,
    pub dims: Vec<i64>,
    /// Values of a small int32/int64 tensor.
    pub ints: Option<Vec<i64>>,
}

impl Tensor {
    pub fn elements(&self) -> u64 {
        self.dims.iter().map(|&d| d.max(0) as u64).product()
    }
}

#[derive(Debug, Clone)]
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Str(String),
    Tensor(Tensor),
    Other,
}

#[derive(Debug, Default)]
pub struct Node {
    pub op: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: HashMap<String, Attr>,
}

impl Node {
    pub fn int(&self, name: &str, default: i64) -> i64 {
        match self.attrs.get(name) {
            Some(Attr::Int(v)) => *v,
            _ => default,
        }
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.attrs.get(name) {
            Some(Attr::Str(v)) => Some(v),
            _ => None,
        }
    }

    pub fn ints(&self, name: &str) -> Option<&[i64]> {
        match self.attrs.get(name) {
            Some(Attr::Ints(v)) => Some(v),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub initializers: Vec<Tensor>,
    by_name: HashMap<String, usize>,
    /// Graph inputs that are not initializers, with their declared dims (-1 when symbolic).
    pub inputs: Vec<(String, Vec<i64>)>,
}

impl Graph {
    pub fn initializer(&self, name: &str) -> Option<&Tensor> {
        self.by_name.get(name).map(|&i| &self.initializers[i])
    }
}

fn string(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

fn tensor(buf: &[u8]) -> Result<Tensor, OnnxInfoError> {
    let mut t = Tensor::default();
    let (mut data_type, mut raw, mut listed) = (0, None, Vec::new());
    let mut r = fields(buf);
    while let Some((num, wire, data, value)) = r.field()? {
        match num {
            1 => push_ints(&mut t.dims, wire, data, value)?,
            2 => data_type = value,
            5 | 7 => push_ints(&mut listed, wire, data, value)?,
            8 => t.name = string(data),
            9 => raw = Some(data),
            _ => {}
        }
    }
    // data_type 6 = INT32, 7 = INT64.
    if matches!(data_type, 6 | 7) && t.elements() <= MAX_KEPT_VALUES {
        t.ints = Some(match raw {
            Some(bytes) if data_type == 7 => bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect(),
            Some(bytes) => bytes
                .chunks_exact(4)
                .map(|c| i64::from(i32::from_le_bytes(c.try_into().unwrap_or_default())))
                .collect(),
            None => listed,
        });
    }
    Ok(t)
}

fn attribute(buf: &[u8]) -> Result<(String, Attr), OnnxInfoError> {
    let (mut name, mut attr, mut ints) = (String::new(), Attr::Other, Vec::new());
    let mut r = fields(buf);
    while let Some((num, wire, data, value)) = r.field()? {
        match num {
            1 => name = string(data),
            3 => attr = Attr::Int(value as i64),
            4 => attr = Attr::Str(string(data)),
            5 => attr = Attr::Tensor(tensor(data)?),
            8 => push_ints(&mut ints, wire, data, value)?,
            _ => {}
        }
    }
    if !ints.is_empty() {
        attr = Attr::Ints(ints);
    }
    Ok((name, attr))
}

fn node(buf: &[u8]) -> Result<Node, OnnxInfoError> {
    let mut n = Node::default();
    let mut r = fields(buf);
    while let Some((num, _, data, _)) = r.field()? {
        match num {
            1 => n.inputs.push(string(data)),
            2 => n.outputs.push(string(data)),
            4 => n.op = string(data),
            5 => {
                let (name, attr) = attribute(data)?;
                n.attrs.insert(name, attr);
            }
            _ => {}
        }
    }
    Ok(n)
}

/// Name and dims of a ValueInfoProto (-1 for symbolic or missing dims).
fn value_info(buf: &[u8]) -> Result<(String, Vec<i64>), OnnxInfoError> {
    // Follow one length-delimited field number down a message.
    fn sub(buf: &[u8], want: u64) -> Result<Vec<&[u8]>, OnnxInfoError> {
        let mut out = Vec::new();
        let mut r = fields(buf);
        while let Some((num, wire, data, _)) = r.field()? {
            if num == want && wire == 2 {
                out.push(data);
            }
        }
        Ok(out)
    }
    let mut name = String::new();
    let mut r = fields(buf);
    while let Some((num, _, data, _)) = r.field()? {
        if num == 1 {
            name = string(data);
        }
    }
    let mut dims = Vec::new();
    for ty in sub(buf, 2)? {
        for tensor_type in sub(ty, 1)? {
            for shape in sub(tensor_type, 2)? {
                for dim in sub(shape, 1)? {
                    let mut d = -1;
                    let mut r = fields(dim);
                    while let Some((num, wire, _, value)) = r.field()? {
                        if (num, wire) == (1, 0) {
                            d = value as i64;
                        }
                    }
                    dims.push(d);
                }
            }
        }
    }
    Ok((name, dims))
}

/// Parses the main graph of an ONNX model file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Graph, OnnxInfoError> {
    let mut g = Graph::default();
    let mut declared = Vec::new();
    let mut model = fields(bytes);
    while let Some((num, wire, graph, _)) = model.field()? {
        if (num, wire) != (7, 2) {
            continue;
        }
        let mut r = fields(graph);
        while let Some((num, wire, data, _)) = r.field()? {
            match (num, wire) {
                (1, 2) => g.nodes.push(node(data)?),
                (5, 2) => {
                    let t = tensor(data)?;
                    g.by_name.insert(t.name.clone(), g.initializers.len());
                    g.initializers.push(t);
                }
                (11, 2) => declared.push(value_info(data)?),
                _ => {}
            }
        }
    }
    g.inputs = declared
        .into_iter()
        .filter(|(name, _)| !g.by_name.contains_key(name))
        .collect();
    Ok(g)
}
