//! The node's settings ([`crate::params::SPECS`]) as ROS parameters: values come from rcl
//! (`-p`, `--params-file`, launch files) at start-up and from the parameter services
//! ([`super::param_services`]) while running. A value is refused with a reason when it has the
//! wrong type, is out of range, or belongs to a start-up-only (read-only) parameter.

use r2r::indexmap::IndexMap;
use r2r::rcl_interfaces::msg::{
    FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType as T,
    ParameterValue as Msg,
};
use r2r::{Parameter, ParameterValue};

use crate::config::{ConfigError, Range};
use crate::params::{spec, NodeParams, Spec, Value, SPECS};

/// A start-up value as rcl parsed it.
fn from_rcl(v: &ParameterValue) -> Value {
    match v {
        ParameterValue::Bool(x) => Value::Bool(*x),
        ParameterValue::Integer(x) => Value::Integer(*x),
        ParameterValue::Double(x) => Value::Double(*x),
        ParameterValue::String(x) => Value::String(x.clone()),
        ParameterValue::StringArray(x) => Value::StringArray(x.clone()),
        other => Value::Other(format!("{other:?}")),
    }
}

/// A value as the parameter services receive it.
pub fn from_msg(m: &Msg) -> Value {
    match m.type_ {
        t if t == T::PARAMETER_BOOL as u8 => Value::Bool(m.bool_value),
        t if t == T::PARAMETER_INTEGER as u8 => Value::Integer(m.integer_value),
        t if t == T::PARAMETER_DOUBLE as u8 => Value::Double(m.double_value),
        t if t == T::PARAMETER_STRING as u8 => Value::String(m.string_value.clone()),
        t if t == T::PARAMETER_STRING_ARRAY as u8 => {
            Value::StringArray(m.string_array_value.clone())
        }
        t => Value::Other(format!("a value of parameter type {t}")),
    }
}

/// A value as the parameter services send it.
pub fn to_msg(v: Value) -> Msg {
    let m = Msg {
        type_: type_of(&v),
        ..Default::default()
    };
    match v {
        Value::Bool(bool_value) => Msg { bool_value, ..m },
        Value::Integer(integer_value) => Msg { integer_value, ..m },
        Value::Double(double_value) => Msg { double_value, ..m },
        Value::String(string_value) => Msg { string_value, ..m },
        Value::StringArray(string_array_value) => Msg {
            string_array_value,
            ..m
        },
        Value::Other(_) => m,
    }
}

fn type_of(v: &Value) -> u8 {
    match v {
        Value::Bool(_) => T::PARAMETER_BOOL as u8,
        Value::Integer(_) => T::PARAMETER_INTEGER as u8,
        Value::Double(_) => T::PARAMETER_DOUBLE as u8,
        Value::String(_) => T::PARAMETER_STRING as u8,
        Value::StringArray(_) => T::PARAMETER_STRING_ARRAY as u8,
        Value::Other(_) => T::PARAMETER_NOT_SET as u8,
    }
}

/// What `ros2 param describe` and rqt_reconfigure show: type, description, range (integer or
/// floating point, step 0 = any value) and read-only for start-up-only parameters.
pub fn descriptor(s: &'static Spec, current: &NodeParams) -> ParameterDescriptor {
    let mut d = ParameterDescriptor {
        name: s.name.to_string(),
        type_: type_of(&s.get(current)),
        description: s.description().to_string(),
        read_only: !s.live,
        ..Default::default()
    };
    match s.range {
        Some(Range::Int(from_value, to_value)) => d.integer_range.push(IntegerRange {
            from_value,
            to_value,
            step: 0,
        }),
        Some(Range::Float(from_value, to_value)) => {
            d.floating_point_range.push(FloatingPointRange {
                from_value,
                to_value,
                step: 0.0,
            })
        }
        None => {}
    }
    d
}

/// The parameters the services read and change. `generation` counts accepted changes, so the
/// processing thread applies them without polling every value.
#[derive(Debug, Default)]
pub struct ParamStore {
    pub params: NodeParams,
    pub generation: u64,
}

impl ParamStore {
    /// The start-up values rcl parsed (command line, params files), applied as the table orders
    /// them and validated; they are taken out of `given`, so what stays there is unknown here.
    pub fn from_rcl(given: &mut IndexMap<String, Parameter>) -> Result<Self, ConfigError> {
        let params =
            NodeParams::from_given(|name| given.shift_remove(name).map(|p| from_rcl(&p.value)))?;
        Ok(Self {
            params,
            generation: 0,
        })
    }

    /// Apply `changes` together (all or none): each must name a live parameter and have a value
    /// it accepts, and the result must be valid as a whole. The error names the culprit.
    pub fn set(&mut self, changes: &[(&str, Value)]) -> Result<(), String> {
        let mut next = self.params.clone();
        for (name, value) in changes {
            let s = spec(name).ok_or_else(|| format!("{name}: no such parameter"))?;
            if !s.live {
                return Err(format!(
                    "{name} is start-up only (read-only): set it with -p, --params-file or a launch file and restart the node"
                ));
            }
            s.set(&mut next, value).map_err(|e| e.to_string())?;
        }
        next.validate().map_err(|e| e.to_string())?;
        self.params = next;
        self.generation += 1;
        Ok(())
    }

    /// Every parameter with its current value.
    pub fn values(&self) -> impl Iterator<Item = (&'static str, Value)> + '_ {
        SPECS.iter().map(|s| (s.name, s.get(&self.params)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rcl(pairs: &[(&str, ParameterValue)]) -> IndexMap<String, Parameter> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Parameter::new(v.clone())))
            .collect()
    }

    #[test]
    fn start_up_values_are_applied_and_unknown_names_stay_behind() {
        let mut given = rcl(&[
            ("detector.kind", ParameterValue::String("blazeface".into())),
            (
                "image_topics",
                ParameterValue::StringArray(vec!["/a".into(), "/b".into()]),
            ),
            ("qos.reliability", ParameterValue::String("reliable".into())),
            ("detector.score_threshold", ParameterValue::Integer(1)),
            ("no.such", ParameterValue::Bool(true)),
        ]);
        let p = ParamStore::from_rcl(&mut given).unwrap().params;
        assert_eq!(p.image_topics, ["/a", "/b"]);
        assert!(p.reliable);
        let d = &p.pipeline.detector;
        assert_eq!((d.input_width, d.input_height), (128, 128));
        assert_eq!(d.score_threshold, 1.0);
        assert_eq!(given.keys().collect::<Vec<_>>(), ["no.such"]);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let mut given = rcl(&[("detector.nms_iou", ParameterValue::Double(3.0))]);
        let e = ParamStore::from_rcl(&mut given).unwrap_err().to_string();
        assert!(
            e.contains("detector.nms_iou") && e.contains("outside"),
            "{e}"
        );
        // rcl types `-p image_topics:=[]` as an empty array of another type: refused, not a topic.
        let mut given = rcl(&[("image_topics", ParameterValue::BoolArray(vec![]))]);
        let e = ParamStore::from_rcl(&mut given).unwrap_err().to_string();
        assert!(e.contains("image_topics"), "{e}");

        let mut store = ParamStore::default();
        let kind = Value::String("blazeface".into());
        let e = store.set(&[("detector.kind", kind)]).unwrap_err();
        assert!(e.contains("start-up only"), "{e}");
        assert!(store
            .set(&[("classifier.smoothing", Value::Bool(true))])
            .is_err());
        let e = store
            .set(&[("diagnostics.min_rate", Value::Double(500.0))])
            .unwrap_err();
        assert!(e.contains("max_rate"), "{e}");
        assert!(store.set(&[("no.such", Value::Bool(true))]).is_err());
        assert_eq!(store.generation, 0);
        store
            .set(&[("detector.score_threshold", Value::Double(0.8))])
            .unwrap();
        assert_eq!(store.params.pipeline.detector.score_threshold, 0.8);
        assert_eq!(store.generation, 1);
    }

    #[test]
    fn changes_together_are_all_or_none() {
        let mut store = ParamStore::default();
        // Each alone is invalid (min above max, then max below min); together they are valid.
        let both = [
            ("diagnostics.min_rate", Value::Double(200.0)),
            ("diagnostics.max_rate", Value::Double(300.0)),
        ];
        store.set(&both).unwrap();
        assert_eq!(
            (store.params.min_rate, store.params.max_rate),
            (200.0, 300.0)
        );
        let one_bad = [
            ("detector.score_threshold", Value::Double(0.1)),
            ("detector.nms_iou", Value::Double(3.0)),
        ];
        let e = store.set(&one_bad).unwrap_err();
        assert!(e.contains("detector.nms_iou"), "{e}");
        assert_eq!(store.params.pipeline.detector.score_threshold, 0.6);
        assert_eq!(store.generation, 1);
    }

    #[test]
    fn descriptors_carry_type_range_and_read_only() {
        let p = NodeParams::default();
        let d = descriptor(spec("detector.score_threshold").unwrap(), &p);
        assert_eq!(d.type_, T::PARAMETER_DOUBLE as u8);
        assert!(!d.read_only && d.integer_range.is_empty());
        let r = &d.floating_point_range[0];
        assert_eq!((r.from_value, r.to_value, r.step), (0.0, 1.0, 0.0));
        let d = descriptor(spec("threads").unwrap(), &p);
        assert!(d.read_only);
        assert_eq!(d.integer_range[0].from_value, 1);
        let d = descriptor(spec("image_topics").unwrap(), &p);
        assert_eq!(d.type_, T::PARAMETER_STRING_ARRAY as u8);
        assert!(d.floating_point_range.is_empty() && d.integer_range.is_empty());
        for v in [
            Value::Bool(true),
            Value::Integer(-3),
            Value::Double(0.5),
            Value::String("x".into()),
            Value::StringArray(vec!["/a".into()]),
        ] {
            assert_eq!(from_msg(&to_msg(v.clone())), v);
        }
    }
}
