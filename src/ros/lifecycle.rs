//! The managed-node (lifecycle) state machine of rcl_lifecycle's default, served over
//! `lifecycle_msgs` as rclcpp_lifecycle serves it (r2r has none; decision 10): services
//! `<node>/{change_state, get_state, get_available_states, get_available_transitions,
//! get_transition_graph}` and the `<node>/transition_event` publisher. What the node does in each
//! transition is [`Managed`]'s; a transition whose callback fails goes back to where it started
//! (configure: unconfigured, with the reason logged).

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::{join_all, BoxFuture};
use futures::FutureExt;
use r2r::lifecycle_msgs::msg::{State, Transition, TransitionDescription, TransitionEvent};
use r2r::lifecycle_msgs::srv::{
    ChangeState, GetAvailableStates, GetAvailableTransitions, GetState,
};
use r2r::{Node, Publisher, QosProfile};

use super::latest::lock;
use super::param_services::answer;

// lifecycle_msgs/msg/State ids.
pub const UNCONFIGURED: u8 = 1;
pub const INACTIVE: u8 = 2;
pub const ACTIVE: u8 = 3;
pub const FINALIZED: u8 = 4;
const CONFIGURING: u8 = 10;
const CLEANING_UP: u8 = 11;
const SHUTTING_DOWN: u8 = 12;
const ACTIVATING: u8 = 13;
const DEACTIVATING: u8 = 14;
const ERROR_PROCESSING: u8 = 15;

// lifecycle_msgs/msg/Transition ids of the requests.
pub const CONFIGURE: u8 = 1;
pub const CLEANUP: u8 = 2;
pub const ACTIVATE: u8 = 3;
pub const DEACTIVATE: u8 = 4;

fn state_label(id: u8) -> &'static str {
    match id {
        UNCONFIGURED => "unconfigured",
        INACTIVE => "inactive",
        ACTIVE => "active",
        FINALIZED => "finalized",
        CONFIGURING => "configuring",
        CLEANING_UP => "cleaningup",
        SHUTTING_DOWN => "shuttingdown",
        ACTIVATING => "activating",
        DEACTIVATING => "deactivating",
        ERROR_PROCESSING => "errorprocessing",
        _ => "unknown",
    }
}

/// A requested transition: from a primary state into its transition state.
struct Step {
    id: u8,
    label: &'static str,
    from: u8,
    via: u8,
}

const STEPS: [Step; 7] = [
    Step {
        id: CONFIGURE,
        label: "configure",
        from: UNCONFIGURED,
        via: CONFIGURING,
    },
    Step {
        id: CLEANUP,
        label: "cleanup",
        from: INACTIVE,
        via: CLEANING_UP,
    },
    Step {
        id: ACTIVATE,
        label: "activate",
        from: INACTIVE,
        via: ACTIVATING,
    },
    Step {
        id: DEACTIVATE,
        label: "deactivate",
        from: ACTIVE,
        via: DEACTIVATING,
    },
    Step {
        id: 5,
        label: "shutdown",
        from: UNCONFIGURED,
        via: SHUTTING_DOWN,
    },
    Step {
        id: 6,
        label: "shutdown",
        from: INACTIVE,
        via: SHUTTING_DOWN,
    },
    Step {
        id: 7,
        label: "shutdown",
        from: ACTIVE,
        via: SHUTTING_DOWN,
    },
];

/// Out of a transition state: (transition id on success, goal on success, goal on failure).
/// The ids of failure are success + 1; those of error (+2) lead to errorprocessing, whose own
/// success (60) returns to unconfigured and failure (61) finalises.
fn outcomes(via: u8) -> (u8, u8, u8) {
    match via {
        CONFIGURING => (10, INACTIVE, UNCONFIGURED),
        CLEANING_UP => (20, UNCONFIGURED, INACTIVE),
        ACTIVATING => (30, ACTIVE, INACTIVE),
        DEACTIVATING => (40, INACTIVE, ACTIVE),
        SHUTTING_DOWN => (50, FINALIZED, FINALIZED),
        _ => (60, UNCONFIGURED, FINALIZED),
    }
}

/// What the node does in each transition; an `Err` is the callback's failure, with its reason.
pub trait Managed: Send {
    fn configure(&mut self) -> Result<(), String>;
    fn activate(&mut self) -> Result<(), String>;
    fn deactivate(&mut self) -> Result<(), String>;
    fn cleanup(&mut self) -> Result<(), String>;
    /// From any primary state; leaves nothing running.
    fn shutdown(&mut self) -> Result<(), String>;
}

fn state(id: u8) -> State {
    State {
        id,
        label: state_label(id).to_string(),
    }
}

fn description(id: u8, label: &str, from: u8, to: u8) -> TransitionDescription {
    TransitionDescription {
        transition: Transition {
            id,
            label: label.to_string(),
        },
        start_state: state(from),
        goal_state: state(to),
    }
}

/// rcl_lifecycle's whole graph: the requests, then each transition state's outcomes.
fn graph() -> Vec<TransitionDescription> {
    let mut out: Vec<_> = STEPS
        .iter()
        .map(|s| description(s.id, s.label, s.from, s.via))
        .collect();
    for via in [
        CONFIGURING,
        CLEANING_UP,
        ACTIVATING,
        DEACTIVATING,
        SHUTTING_DOWN,
        ERROR_PROCESSING,
    ] {
        let (success, ok, failed) = outcomes(via);
        out.push(description(success, "transition_success", via, ok));
        out.push(description(success + 1, "transition_failure", via, failed));
        let error_goal = if via == ERROR_PROCESSING {
            FINALIZED
        } else {
            ERROR_PROCESSING
        };
        out.push(description(
            success + 2,
            "transition_error",
            via,
            error_goal,
        ));
    }
    out
}

/// The node's lifecycle state and the transition events it announces.
pub struct Lifecycle {
    state: AtomicU8,
    events: Mutex<Publisher<TransitionEvent>>,
}

impl Lifecycle {
    pub fn state(&self) -> u8 {
        self.state.load(Ordering::SeqCst)
    }

    fn announce(&self, id: u8, label: &str, from: u8, to: u8) {
        let d = description(id, label, from, to);
        let event = TransitionEvent {
            timestamp: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |t| t.as_nanos() as u64),
            transition: d.transition,
            start_state: d.start_state,
            goal_state: d.goal_state,
        };
        if let Err(e) = lock(&self.events).publish(&event) {
            log::warn!("cannot publish the transition event: {e}");
        }
        self.state.store(to, Ordering::SeqCst);
    }

    /// Run transition `id` (or the one labelled `label`, which wins, as in rclcpp) from the
    /// current state; the error says why it did not reach its goal.
    pub fn trigger(&self, managed: &mut dyn Managed, id: u8, label: &str) -> Result<(), String> {
        let from = self.state();
        let step = STEPS
            .iter()
            .find(|s| {
                s.from == from
                    && (if label.is_empty() {
                        s.id == id
                    } else {
                        s.label == label
                    })
            })
            .ok_or_else(|| {
                let which = if label.is_empty() {
                    id.to_string()
                } else {
                    label.to_string()
                };
                format!(
                    "transition {which} is not available in state {}",
                    state_label(from)
                )
            })?;
        self.announce(step.id, step.label, from, step.via);
        let done = match step.id {
            CONFIGURE => managed.configure(),
            CLEANUP => managed.cleanup(),
            ACTIVATE => managed.activate(),
            DEACTIVATE => managed.deactivate(),
            _ => managed.shutdown(),
        };
        let (success, ok, failed) = outcomes(step.via);
        match &done {
            Ok(()) => self.announce(success, "transition_success", step.via, ok),
            Err(_) => self.announce(success + 1, "transition_failure", step.via, failed),
        }
        done
    }
}

/// Create the lifecycle services and publisher on `node` (starting unconfigured); the future
/// answers requests until the node goes. `managed` runs the transitions that are asked for.
pub fn serve(
    node: &mut Node,
    managed: Arc<Mutex<dyn Managed>>,
) -> r2r::Result<(Arc<Lifecycle>, BoxFuture<'static, ()>)> {
    let name = node.name()?;
    let lifecycle = Arc::new(Lifecycle {
        state: AtomicU8::new(UNCONFIGURED),
        events: Mutex::new(node.create_publisher(
            &format!("{name}/transition_event"),
            QosProfile::default().keep_last(10),
        )?),
    });
    let mut handlers: Vec<BoxFuture<'static, ()>> = Vec::new();
    let l = lifecycle.clone();
    handlers.push(answer::<ChangeState::Service>(
        node,
        &name,
        "change_state",
        move |q| {
            let t = &q.transition;
            let done = l.trigger(&mut *lock(&managed), t.id, &t.label);
            match &done {
                Ok(()) => log::info!("lifecycle: {}", state_label(l.state())),
                Err(e) => log::warn!("lifecycle: {e}; {}", state_label(l.state())),
            }
            ChangeState::Response {
                success: done.is_ok(),
            }
        },
    )?);
    let l = lifecycle.clone();
    handlers.push(answer::<GetState::Service>(
        node,
        &name,
        "get_state",
        move |_| GetState::Response {
            current_state: state(l.state()),
        },
    )?);
    handlers.push(answer::<GetAvailableStates::Service>(
        node,
        &name,
        "get_available_states",
        |_| {
            let ids = [
                UNCONFIGURED,
                INACTIVE,
                ACTIVE,
                FINALIZED,
                CONFIGURING,
                CLEANING_UP,
            ];
            let more = [SHUTTING_DOWN, ACTIVATING, DEACTIVATING, ERROR_PROCESSING];
            GetAvailableStates::Response {
                available_states: ids.into_iter().chain(more).map(state).collect(),
            }
        },
    )?);
    let l = lifecycle.clone();
    handlers.push(answer::<GetAvailableTransitions::Service>(
        node,
        &name,
        "get_available_transitions",
        move |_| {
            let from = l.state();
            GetAvailableTransitions::Response {
                available_transitions: graph()
                    .into_iter()
                    .filter(|d| d.start_state.id == from)
                    .collect(),
            }
        },
    )?);
    handlers.push(answer::<GetAvailableTransitions::Service>(
        node,
        &name,
        "get_transition_graph",
        |_| GetAvailableTransitions::Response {
            available_transitions: graph(),
        },
    )?);
    Ok((lifecycle, join_all(handlers).map(|_| ()).boxed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_is_rcl_lifecycles_default() {
        let g = graph();
        // 7 requests + 3 outcomes out of each of the 6 transition states, as rcl_lifecycle.
        assert_eq!(g.len(), 7 + 18);
        let from = |s: u8| -> Vec<(u8, &str)> {
            g.iter()
                .filter(|d| d.start_state.id == s)
                .map(|d| (d.transition.id, d.goal_state.label.as_str()))
                .collect()
        };
        assert_eq!(
            from(UNCONFIGURED),
            [(1, "configuring"), (5, "shuttingdown")]
        );
        assert_eq!(
            from(INACTIVE),
            [(2, "cleaningup"), (3, "activating"), (6, "shuttingdown")]
        );
        assert_eq!(from(ACTIVE), [(4, "deactivating"), (7, "shuttingdown")]);
        assert!(from(FINALIZED).is_empty());
        assert_eq!(
            from(CONFIGURING),
            [
                (10, "inactive"),
                (11, "unconfigured"),
                (12, "errorprocessing")
            ]
        );
        assert_eq!(
            from(ERROR_PROCESSING),
            [(60, "unconfigured"), (61, "finalized"), (62, "finalized")]
        );
    }
}
