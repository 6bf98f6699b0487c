//! ROS 2 message definitions embedded in written MCAP files (schema encoding `ros2msg`: the
//! type's .msg text, then every type it uses, each after a line of 80 `=` and `MSG: pkg/Type`),
//! so that `ros2 bag play`, Foxglove and rosbags can decode them without our sources.

/// The project's own interface files, one source for the node's messages and the bag schemas.
macro_rules! interface {
    ($pkg:literal, $name:literal) => {
        (
            concat!($pkg, "/", $name),
            include_str!(concat!(
                "../../../interfaces/",
                $pkg,
                "/msg/",
                $name,
                ".msg"
            )),
        )
    };
}

const DEFINITIONS: &[(&str, &str)] = &[
    ("builtin_interfaces/Time", "int32 sec\nuint32 nanosec\n"),
    ("std_msgs/Header", "builtin_interfaces/Time stamp\nstring frame_id\n"),
    ("geometry_msgs/Point", "float64 x\nfloat64 y\nfloat64 z\n"),
    ("geometry_msgs/Quaternion", "float64 x 0\nfloat64 y 0\nfloat64 z 0\nfloat64 w 1\n"),
    ("geometry_msgs/Pose", "Point position\nQuaternion orientation\n"),
    ("geometry_msgs/PoseWithCovariance", "Pose pose\nfloat64[36] covariance\n"),
    interface!("vision_msgs", "Point2D"),
    interface!("vision_msgs", "Pose2D"),
    interface!("vision_msgs", "BoundingBox2D"),
    interface!("vision_msgs", "ObjectHypothesis"),
    interface!("vision_msgs", "ObjectHypothesisWithPose"),
    interface!("vision_msgs", "Detection2D"),
    interface!("vision_msgs", "Detection2DArray"),
    interface!("hri_msgs", "Expression"),
    interface!("hri_msgs", "IdsList"),
    interface!("hri_msgs", "NormalizedRegionOfInterest2D"),
    ("sensor_msgs/Image", "std_msgs/Header header\nuint32 height\nuint32 width\nstring encoding\nuint8 is_bigendian\nuint32 step\nuint8[] data\n"),
];

const PRIMITIVES: &[&str] = &[
    "bool", "byte", "char", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
    "uint64", "float32", "float64", "string", "wstring",
];

fn definition(name: &str) -> Option<&'static str> {
    DEFINITIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
}

/// Field types of a definition, as full `pkg/Type` names (same-package types get the package).
/// Constants (`string NEUTRAL=neutral`) have primitive types and add nothing; comments neither.
fn dependencies(pkg: &str, def: &str) -> Vec<String> {
    def.lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|t| !t.starts_with('#'))
        .map(|t| t.split('[').next().unwrap_or(t))
        .filter(|t| !PRIMITIVES.contains(t))
        .map(|t| {
            if t.contains('/') {
                t.to_string()
            } else {
                format!("{pkg}/{t}")
            }
        })
        .collect()
}

/// The `ros2msg` schema text for `type_name` (`pkg/msg/Type` or `pkg/Type`).
pub fn ros2msg(type_name: &str) -> Option<String> {
    let short = type_name.replace("/msg/", "/");
    let mut out = definition(&short)?.to_string();
    let mut done = vec![short.clone()];
    let mut stack = vec![short];
    while let Some(t) = stack.pop() {
        let pkg = t.split('/').next().unwrap_or_default().to_string();
        for dep in dependencies(&pkg, definition(&t)?) {
            if !done.contains(&dep) {
                out.push_str(&format!(
                    "{}\nMSG: {dep}\n{}",
                    "=".repeat(80),
                    definition(&dep)?
                ));
                done.push(dep.clone());
                stack.push(dep);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn detection_array_schema_lists_every_dependency_once() {
        let s = super::ros2msg("vision_msgs/msg/Detection2DArray").unwrap();
        // The type's own definition first: the interface file as it is.
        assert!(s.starts_with(include_str!(
            "../../../interfaces/vision_msgs/msg/Detection2DArray.msg"
        )));
        assert!(
            s.contains("std_msgs/Header header\n") && s.contains("\nDetection2D[] detections\n")
        );
        for dep in [
            "std_msgs/Header",
            "builtin_interfaces/Time",
            "vision_msgs/Detection2D",
            "vision_msgs/ObjectHypothesisWithPose",
            "vision_msgs/ObjectHypothesis",
            "geometry_msgs/PoseWithCovariance",
            "geometry_msgs/Pose",
            "geometry_msgs/Point",
            "geometry_msgs/Quaternion",
            "vision_msgs/BoundingBox2D",
            "vision_msgs/Pose2D",
            "vision_msgs/Point2D",
        ] {
            assert_eq!(s.matches(&format!("MSG: {dep}\n")).count(), 1, "{dep}");
        }
        let e = super::ros2msg("hri_msgs/msg/Expression").unwrap();
        // The interface file itself, then its dependencies (comments name none).
        assert!(e.starts_with(include_str!(
            "../../../interfaces/hri_msgs/msg/Expression.msg"
        )));
        assert_eq!(e.matches("\nMSG: ").count(), 2, "{e}");
        assert!(e.contains("MSG: builtin_interfaces/Time"));
        assert!(super::ros2msg("foo/msg/Bar").is_none());
    }
}
