//! The node's side of the messages: frame results go out as the CDR bytes of
//! [`crate::tracking::messages`] (the bytes replay writes into bags) through [`CdrPublisher`];
//! diagnostics are built here, as only the node publishes them.

use std::marker::PhantomData;

use r2r::diagnostic_msgs::msg::{DiagnosticArray, DiagnosticStatus, KeyValue};
use r2r::std_msgs::msg::Header;
use r2r::{PublisherUntyped, QosProfile};

use super::diagnostics::Status;
use crate::io::bag::msgs::{self, RosMessage};

/// A publisher of one mirrored message type ([`crate::io::bag::msgs`]): what it publishes is
/// exactly what a bag of the same outputs holds.
pub struct CdrPublisher<M> {
    inner: PublisherUntyped,
    message: PhantomData<M>,
}

impl<M: RosMessage> CdrPublisher<M> {
    pub fn create(node: &mut r2r::Node, topic: &str, qos: QosProfile) -> r2r::Result<Self> {
        Ok(Self {
            inner: node.create_publisher_untyped(topic, M::TYPE, qos)?,
            message: PhantomData,
        })
    }

    pub fn publish(&self, msg: &M) -> Result<(), PublishError> {
        Ok(self.inner.publish_raw(&msgs::to_cdr(msg)?)?)
    }

    /// Whether another process subscribes: images are made only for someone (as image_transport
    /// publishers do). When rcl cannot say, yes.
    pub fn has_subscribers(&self) -> bool {
        self.inner
            .get_inter_process_subscription_count()
            .map_or(true, |n| n > 0)
    }

    /// Remove the publisher from `node` (its topic disappears from the graph).
    pub fn destroy(self, node: &mut r2r::Node) {
        node.destroy_publisher_untyped(self.inner);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot encode the message: {0}")]
    Encode(#[from] crate::io::bag::BagError),
    #[error("rcl refused the message: {0}")]
    Publish(#[from] r2r::Error),
}

/// An incoming message's header as the mirrored type.
pub fn header(h: &Header) -> msgs::Header {
    msgs::Header {
        stamp: msgs::Time {
            sec: h.stamp.sec,
            nanosec: h.stamp.nanosec,
        },
        frame_id: h.frame_id.clone(),
    }
}

pub fn diagnostics(header: Header, statuses: Vec<Status>) -> DiagnosticArray {
    DiagnosticArray {
        header,
        status: statuses
            .into_iter()
            .map(|s| DiagnosticStatus {
                level: s.level,
                name: s.name,
                message: s.message,
                hardware_id: s.hardware_id,
                values: s
                    .values
                    .into_iter()
                    .map(|(key, value)| KeyValue { key, value })
                    .collect(),
            })
            .collect(),
    }
}

/// The node's ROS clock: the wall clock, or `/clock` with `use_sim_time` (r2r's time source
/// feeds it). A clock that cannot be read gives 0.
pub type RosClock = std::sync::Arc<std::sync::Mutex<r2r::Clock>>;

pub fn ros_now(clock: &RosClock) -> std::time::Duration {
    super::latest::lock(clock).get_now().unwrap_or_default()
}

/// A time since the epoch as a message stamp.
pub fn stamp(d: std::time::Duration) -> r2r::builtin_interfaces::msg::Time {
    r2r::builtin_interfaces::msg::Time {
        sec: d.as_secs() as i32,
        nanosec: d.subsec_nanos(),
    }
}

/// The wall clock as a message stamp.
pub fn now_stamp() -> r2r::builtin_interfaces::msg::Time {
    stamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default(),
    )
}
