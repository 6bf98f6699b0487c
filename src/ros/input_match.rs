//! Why a camera's frames do not arrive, when the ROS graph can tell: a publisher of another
//! message type on the topic, or only best-effort publishers while the node asks for reliable
//! images (DDS then never matches them and no frame, no error and no log says so by itself).

/// A publisher on a camera topic, as the graph reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Publisher {
    /// Fully qualified node name.
    pub node: String,
    pub type_name: String,
    pub reliable: bool,
}

/// The reason none of `publishers` can deliver to a subscription of `expected` type (reliable
/// or not); `None` when one can or when there is none.
pub fn mismatch(expected: &str, reliable: bool, publishers: &[Publisher]) -> Option<String> {
    let first = publishers.first()?;
    let matches = |p: &Publisher| p.type_name == expected && (p.reliable || !reliable);
    if publishers.iter().any(matches) {
        return None;
    }
    Some(
        match publishers.iter().find(|p| p.type_name == expected) {
            Some(p) => format!(
                "publisher {} is best effort and qos.reliability is reliable: no frame can match (set qos.reliability:=best_effort)",
                p.node
            ),
            None => format!(
                "publisher {} sends {}, this node subscribes {expected} (see input_transport)",
                first.node, first.type_name
            ),
        },
    )
}

/// The name the graph knows `topic` by, under `namespace` (remaps are not applied).
pub fn resolve(topic: &str, namespace: &str) -> String {
    if topic.starts_with('/') {
        topic.to_string()
    } else {
        format!("{}/{topic}", namespace.trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = "sensor_msgs/msg/Image";

    fn publisher(type_name: &str, reliable: bool) -> Publisher {
        Publisher {
            node: "/camera_driver".into(),
            type_name: type_name.into(),
            reliable,
        }
    }

    #[test]
    fn names_the_reason_no_publisher_matches() {
        assert_eq!(mismatch(IMAGE, true, &[]), None);
        assert_eq!(mismatch(IMAGE, false, &[publisher(IMAGE, false)]), None);
        assert_eq!(mismatch(IMAGE, true, &[publisher(IMAGE, true)]), None);
        let qos = mismatch(IMAGE, true, &[publisher(IMAGE, false)]).unwrap();
        assert!(qos.contains("/camera_driver") && qos.contains("qos.reliability:=best_effort"));
        let compressed = "sensor_msgs/msg/CompressedImage";
        let kind = mismatch(IMAGE, false, &[publisher(compressed, true)]).unwrap();
        assert!(
            kind.contains(compressed) && kind.contains("input_transport"),
            "{kind}"
        );
        // One publisher that matches is enough.
        let both = [publisher(compressed, true), publisher(IMAGE, true)];
        assert_eq!(mismatch(IMAGE, true, &both), None);
    }

    #[test]
    fn relative_topics_resolve_under_the_namespace() {
        assert_eq!(resolve("/cam", "/robot"), "/cam");
        assert_eq!(resolve("cam/image", "/robot"), "/robot/cam/image");
        assert_eq!(resolve("cam", "/"), "/cam");
    }
}
