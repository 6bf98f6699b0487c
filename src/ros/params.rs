//! The node's settings ([`crate::params::SPECS`]) as ROS parameters: values come from rcl
//! (`-p`, `--params-file`, launch files) at start-up and from `ros2 param set` / the
//! SetParameters service while running. A value is refused with a reason when it has the wrong
//! type, is out of range, or belongs to a start-up-only parameter.

use r2r::indexmap::IndexMap;
use r2r::{Parameter, ParameterValue, RosParams};

use crate::config::ConfigError;
use crate::params::{spec, NodeParams, Value, SPECS};

fn from_ros(v: &ParameterValue) -> Value {
    match v {
        ParameterValue::Bool(x) => Value::Bool(*x),
        ParameterValue::Integer(x) => Value::Integer(*x),
        ParameterValue::Double(x) => Value::Double(*x),
        ParameterValue::String(x) => Value::String(x.clone()),
        ParameterValue::StringArray(x) => Value::StringArray(x.clone()),
        other => Value::Other(format!("{other:?}")),
    }
}

fn to_ros(v: Value) -> ParameterValue {
    match v {
        Value::Bool(x) => ParameterValue::Bool(x),
        Value::Integer(x) => ParameterValue::Integer(x),
        Value::Double(x) => ParameterValue::Double(x),
        Value::String(x) => ParameterValue::String(x),
        Value::StringArray(x) => ParameterValue::StringArray(x),
        Value::Other(_) => ParameterValue::NotSet,
    }
}

fn refused(name: &str, e: ConfigError) -> r2r::Error {
    r2r::Error::ParameterValueConv {
        name: name.to_string(),
        msg: e.to_string(),
    }
}

fn unknown(name: &str) -> r2r::Error {
    r2r::Error::InvalidParameterName {
        name: name.to_string(),
    }
}

/// The parameters as r2r's parameter services see them. `generation` counts accepted changes,
/// so the processing thread applies them without polling every value.
#[derive(Debug, Default)]
pub struct ParamStore {
    pub params: NodeParams,
    pub generation: u64,
    running: bool,
}

impl ParamStore {
    /// From now on, start-up-only parameters refuse changes.
    pub fn mark_running(&mut self) {
        self.running = true;
    }

    /// `params` with `value` applied to `name`, validated as a whole.
    fn with(&self, name: &str, value: &ParameterValue) -> r2r::Result<NodeParams> {
        let s = spec(name).ok_or_else(|| unknown(name))?;
        if self.running && !s.live {
            return Err(r2r::Error::ParameterValueConv {
                name: name.to_string(),
                msg: "start-up only: set it with -p, --params-file or a launch file and restart the node".into(),
            });
        }
        let mut next = self.params.clone();
        s.set(&mut next, &from_ros(value))
            .and_then(|()| next.validate())
            .map_err(|e| refused(name, e))?;
        Ok(next)
    }
}

impl RosParams for ParamStore {
    /// Apply the start-up values rcl parsed (command line, params files) as the table orders them,
    /// then declare every parameter; names the table does not know stay in `params`.
    fn register_parameters(
        &mut self,
        _prefix: &str,
        _param: Option<Parameter>,
        params: &mut IndexMap<String, Parameter>,
    ) -> r2r::Result<()> {
        self.params =
            NodeParams::from_given(|name| params.shift_remove(name).map(|p| from_ros(&p.value)))
                .map_err(|e| refused("(start-up)", e))?;
        for s in SPECS {
            params.insert(
                s.name.to_string(),
                Parameter {
                    value: to_ros(s.get(&self.params)),
                    description: s.description(),
                },
            );
        }
        Ok(())
    }

    fn get_parameter(&mut self, name: &str) -> r2r::Result<ParameterValue> {
        let s = spec(name).ok_or_else(|| unknown(name))?;
        Ok(to_ros(s.get(&self.params)))
    }

    fn set_parameter(&mut self, name: &str, value: &ParameterValue) -> r2r::Result<()> {
        self.params = self.with(name, value)?;
        self.generation += 1;
        Ok(())
    }

    fn check_parameter(&self, name: &str, value: &ParameterValue) -> r2r::Result<()> {
        self.with(name, value).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(pairs: &[(&str, ParameterValue)]) -> IndexMap<String, Parameter> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Parameter::new(v.clone())))
            .collect()
    }

    #[test]
    fn start_up_values_are_applied_and_every_parameter_is_declared() {
        let mut store = ParamStore::default();
        let mut given = cli(&[
            ("detector.kind", ParameterValue::String("blazeface".into())),
            (
                "image_topics",
                ParameterValue::StringArray(vec!["/a".into(), "/b".into()]),
            ),
            ("qos.reliability", ParameterValue::String("reliable".into())),
            ("detector.score_threshold", ParameterValue::Integer(1)),
        ]);
        store.register_parameters("", None, &mut given).unwrap();
        let p = &store.params;
        assert_eq!(p.image_topics, ["/a", "/b"]);
        assert!(p.reliable);
        assert_eq!(
            (
                p.pipeline.detector.input_width,
                p.pipeline.detector.input_height
            ),
            (128, 128)
        );
        assert_eq!(p.pipeline.detector.score_threshold, 1.0);
        assert_eq!(given.len(), SPECS.len());
        assert!(given.values().all(|v| !v.description.is_empty()));
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        let mut store = ParamStore::default();
        let mut given = cli(&[("detector.nms_iou", ParameterValue::Double(3.0))]);
        let e = store
            .register_parameters("", None, &mut given)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("detector.nms_iou") && e.contains("outside"),
            "{e}"
        );
        // rcl types `-p image_topics:=[]` as an empty array of another type: refused, not a topic.
        let mut given = cli(&[("image_topics", ParameterValue::BoolArray(vec![]))]);
        let e = ParamStore::default()
            .register_parameters("", None, &mut given)
            .unwrap_err()
            .to_string();
        assert!(e.contains("image_topics"), "{e}");

        let mut store = ParamStore::default();
        store.register_parameters("", None, &mut cli(&[])).unwrap();
        store.mark_running();
        let e = store
            .set_parameter("detector.kind", &ParameterValue::String("blazeface".into()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("start-up only"), "{e}");
        assert!(store
            .set_parameter("classifier.smoothing", &ParameterValue::Bool(true))
            .is_err());
        assert!(store
            .set_parameter("diagnostics.min_rate", &ParameterValue::Double(500.0))
            .unwrap_err()
            .to_string()
            .contains("max_rate"));
        assert!(store
            .set_parameter("no.such", &ParameterValue::Bool(true))
            .is_err());
        assert_eq!(store.generation, 0);
        store
            .set_parameter("detector.score_threshold", &ParameterValue::Double(0.8))
            .unwrap();
        assert_eq!(store.params.pipeline.detector.score_threshold, 0.8);
        assert_eq!(store.generation, 1);
    }
}
