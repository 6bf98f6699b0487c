//! The six parameter services and `/parameter_events`, served as rclcpp serves them (r2r's own
//! handler reports no ranges, publishes no events and checks an atomic set one value at a time,
//! so it is not used; decision 9). `ros2 param`, rqt_reconfigure and launch's SetParameter work
//! against these.

use std::sync::{Arc, Mutex};

use futures::future::{join_all, BoxFuture};
use futures::{FutureExt, Stream, StreamExt};
use r2r::rcl_interfaces::msg::{
    ListParametersResult, Parameter, ParameterEvent, SetParametersResult,
};
use r2r::rcl_interfaces::srv::{
    DescribeParameters, GetParameterTypes, GetParameters, ListParameters, SetParameters,
    SetParametersAtomically,
};
use r2r::{Node, Publisher, QosProfile, ServiceRequest, WrappedServiceTypeSupport};

use super::latest::lock;
use super::messages::now_stamp;
use super::params::{descriptor, from_msg, to_msg, ParamStore};
use crate::params::{spec, Value, SPECS};

type Store = Arc<Mutex<ParamStore>>;

/// Create the services and the events publisher on `node` (announcing every parameter as new)
/// and return the future that answers requests until the node goes.
pub fn serve(node: &mut Node, store: Store) -> r2r::Result<BoxFuture<'static, ()>> {
    let name = node.name()?;
    let events = Arc::new(Events {
        publisher: Mutex::new(
            node.create_publisher("/parameter_events", QosProfile::parameter_events())?,
        ),
        node: node.fully_qualified_name()?,
    });
    let all: Vec<(&str, Value)> = lock(&store).values().collect();
    events.publish(|e| e.new_parameters = parameters(all));

    let mut handlers: Vec<BoxFuture<'static, ()>> = Vec::new();
    let s = store.clone();
    handlers.push(answer::<ListParameters::Service>(
        node,
        &name,
        "list_parameters",
        move |q| {
            let names = SPECS.iter().map(|s| s.name);
            ListParameters::Response {
                result: list(names, &q.prefixes, q.depth),
            }
        },
    )?);
    handlers.push(answer::<GetParameters::Service>(
        node,
        &name,
        "get_parameters",
        move |q| GetParameters::Response {
            values: current(&s, &q.names),
        },
    )?);
    let s = store.clone();
    handlers.push(answer::<GetParameterTypes::Service>(
        node,
        &name,
        "get_parameter_types",
        move |q| GetParameterTypes::Response {
            types: current(&s, &q.names).iter().map(|m| m.type_).collect(),
        },
    )?);
    let s = store.clone();
    handlers.push(answer::<DescribeParameters::Service>(
        node,
        &name,
        "describe_parameters",
        move |q| {
            // As rclcpp: one unknown name and the answer is empty.
            let p = &lock(&s).params;
            let found: Option<Vec<_>> = q
                .names
                .iter()
                .map(|n| spec(n).map(|s| descriptor(s, p)))
                .collect();
            DescribeParameters::Response {
                descriptors: found.unwrap_or_default(),
            }
        },
    )?);
    let (s, ev) = (store.clone(), events.clone());
    handlers.push(answer::<SetParameters::Service>(
        node,
        &name,
        "set_parameters",
        move |q| {
            // One at a time: each result stands alone, as rclcpp's set_parameters.
            let results = q
                .parameters
                .iter()
                .map(|p| change(&s, &ev, std::slice::from_ref(p)))
                .collect();
            SetParameters::Response { results }
        },
    )?);
    let (s, ev) = (store, events);
    handlers.push(answer::<SetParametersAtomically::Service>(
        node,
        &name,
        "set_parameters_atomically",
        move |q| SetParametersAtomically::Response {
            result: change(&s, &ev, &q.parameters),
        },
    )?);
    Ok(join_all(handlers).map(|_| ()).boxed())
}

/// `<node>/<service>`, each request answered by `respond`.
pub(super) fn answer<S>(
    node: &mut Node,
    node_name: &str,
    service: &str,
    respond: impl Fn(&S::Request) -> S::Response + Send + 'static,
) -> r2r::Result<BoxFuture<'static, ()>>
where
    S: WrappedServiceTypeSupport + 'static,
    S::Request: Send,
    S::Response: Send,
{
    let name = format!("{node_name}/{service}");
    let requests = node.create_service::<S>(&name, QosProfile::default())?;
    Ok(serve_requests(requests, name, respond).boxed())
}

async fn serve_requests<S: WrappedServiceTypeSupport + 'static>(
    mut requests: impl Stream<Item = ServiceRequest<S>> + Unpin,
    name: String,
    respond: impl Fn(&S::Request) -> S::Response,
) {
    while let Some(req) = requests.next().await {
        let response = respond(&req.message);
        if let Err(e) = req.respond(response) {
            log::warn!("{name}: cannot answer: {e}");
        }
    }
}

/// The current values of `names` (NOT_SET for a name the table does not know).
fn current(store: &Store, names: &[String]) -> Vec<r2r::rcl_interfaces::msg::ParameterValue> {
    let p = &lock(store).params;
    let value = |n: &String| spec(n).map_or(Value::Other(String::new()), |s| s.get(p));
    names.iter().map(|n| to_msg(value(n))).collect()
}

/// Apply `parameters` together; on success announce them on `/parameter_events`.
fn change(store: &Store, events: &Events, parameters: &[Parameter]) -> SetParametersResult {
    let changes: Vec<(&str, Value)> = parameters
        .iter()
        .map(|p| (p.name.as_str(), from_msg(&p.value)))
        .collect();
    let outcome = lock(store).set(&changes);
    match outcome {
        Ok(()) => {
            for (name, value) in &changes {
                log::info!("parameter {name} set to {value:?}");
            }
            events.publish(|e| e.changed_parameters = parameters.to_vec());
            SetParametersResult {
                successful: true,
                reason: String::new(),
            }
        }
        Err(reason) => SetParametersResult {
            successful: false,
            reason,
        },
    }
}

fn parameters(values: Vec<(&str, Value)>) -> Vec<Parameter> {
    values
        .into_iter()
        .map(|(name, value)| Parameter {
            name: name.to_string(),
            value: to_msg(value),
        })
        .collect()
}

struct Events {
    /// (r2r's publisher is Send, not Sync.)
    publisher: Mutex<Publisher<ParameterEvent>>,
    /// Fully qualified, as rclcpp fills `ParameterEvent.node`.
    node: String,
}

impl Events {
    fn publish(&self, fill: impl FnOnce(&mut ParameterEvent)) {
        let mut e = ParameterEvent {
            stamp: now_stamp(),
            node: self.node.clone(),
            ..Default::default()
        };
        fill(&mut e);
        if let Err(err) = lock(&self.publisher).publish(&e) {
            log::warn!("cannot publish /parameter_events: {err}");
        }
    }
}

/// rclcpp's `list_parameters`: names under any of `prefixes` (all when none), at most `depth`
/// levels below it (0: any depth), and the prefixes (the part before the last `.`) of those
/// names.
fn list<'a>(
    names: impl Iterator<Item = &'a str>,
    prefixes: &[String],
    depth: u64,
) -> ListParametersResult {
    let within = |rest: &str| depth == 0 || (rest.matches('.').count() as u64) < depth;
    let mut out = ListParametersResult::default();
    for name in names {
        let listed = if prefixes.is_empty() {
            within(name)
        } else {
            prefixes.iter().any(|p| {
                name == p
                    || name
                        .strip_prefix(p.as_str())
                        .and_then(|r| r.strip_prefix('.'))
                        .is_some_and(within)
            })
        };
        if !listed {
            continue;
        }
        out.names.push(name.to_string());
        if let Some((prefix, _)) = name.rsplit_once('.') {
            if !out.prefixes.iter().any(|p| p == prefix) {
                out.prefixes.push(prefix.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 5] = [
        "threads",
        "detector.kind",
        "detector.nms_iou",
        "tracker.min_iou",
        "a.b.c",
    ];

    #[test]
    fn listing_follows_rclcpp_prefix_and_depth_rules() {
        let all = list(NAMES.into_iter(), &[], 0);
        assert_eq!(all.names, NAMES);
        assert_eq!(all.prefixes, ["detector", "tracker", "a.b"]);
        assert_eq!(list(NAMES.into_iter(), &[], 1).names, ["threads"]);
        let detector = list(NAMES.into_iter(), &["detector".into()], 0);
        assert_eq!(detector.names, ["detector.kind", "detector.nms_iou"]);
        assert_eq!(detector.prefixes, ["detector"]);
        assert!(list(NAMES.into_iter(), &["a".into()], 1).names.is_empty());
        assert_eq!(list(NAMES.into_iter(), &["a".into()], 2).names, ["a.b.c"]);
        assert!(list(NAMES.into_iter(), &["detect".into()], 0)
            .names
            .is_empty());
    }
}
