"""Launch masked_fer_node: face detection and masked-face expression recognition.

  ros2 launch masked_fer masked_fer.launch.py image_topics:=/camera/color/image_raw
  ros2 launch masked_fer masked_fer.launch.py image_topics:="[/cam_left/image_raw, /cam_right/image_raw]"
  ros2 launch masked_fer masked_fer.launch.py input_transport:=compressed publish_debug_image:=true

Every setting not exposed here lives in the params file (default: the package's
share/masked_fer/params/default.yaml; pass your own with params_file:=...). Arguments given here
win over the file.
"""
import yaml
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

ARGUMENTS = [
    ("image_topics", "/camera/image_raw", "camera topic, or a list of them \"[/a, /b]\" (sensor_msgs/Image; <topic>/compressed with input_transport:=compressed)"),
    ("input_transport", "raw", "raw | compressed"),
    ("namespace", "", "namespace of the node (and of its ~/ topics)"),
    ("node_name", "masked_fer", "name of the node"),
    ("params_file", PathJoinSubstitution([FindPackageShare("masked_fer"), "params", "default.yaml"]),
     "ROS 2 parameters file (every parameter; see masked_fer_node --help)"),
    ("publish_debug_image", "false", "publish ~/debug_image with boxes and expressions drawn"),
    ("qos_reliability", "best_effort", "image subscription reliability: best_effort | reliable"),
    ("autostart", "true", "configure and activate at start-up; false: managed bring-up (ros2 lifecycle set, a lifecycle manager)"),
    ("detections_topic", "~/detections", "remap of the vision_msgs/Detection2DArray output"),
    ("debug_image_topic", "~/debug_image", "remap of the debug image output"),
    ("diagnostics_topic", "/diagnostics", "remap of the diagnostics output"),
    ("log_level", "info", "debug | info | warn | error"),
]


def topic_list(text):
    """A launch argument as the string array the node's image_topics takes: "/a" or "[/a, /b]".
    (launch_ros joins substitutions inside a list into one string, so the list is built here.)"""
    topics = yaml.safe_load(text)
    topics = [topics] if isinstance(topics, str) else topics
    if not isinstance(topics, list) or not topics or not all(isinstance(t, str) for t in topics):
        raise ValueError(f"image_topics: {text!r} is neither a topic nor a list of topics")
    return topics


def node(context):
    arg = LaunchConfiguration
    return [Node(
        package="masked_fer",
        executable="masked_fer_node",
        name=arg("node_name"),
        namespace=arg("namespace"),
        output="screen",
        emulate_tty=True,
        parameters=[
            arg("params_file"),
            {
                "image_topics": topic_list(arg("image_topics").perform(context)),
                "input_transport": arg("input_transport"),
                "publish_debug_image": arg("publish_debug_image"),
                "qos.reliability": arg("qos_reliability"),
                "autostart": arg("autostart"),
            },
        ],
        remappings=[
            ("~/detections", arg("detections_topic")),
            ("~/debug_image", arg("debug_image_topic")),
            ("/diagnostics", arg("diagnostics_topic")),
        ],
        arguments=["--ros-args", "--log-level", arg("log_level")],
    )]


def generate_launch_description():
    return LaunchDescription(
        [DeclareLaunchArgument(name, default_value=default, description=doc) for name, default, doc in ARGUMENTS]
        + [OpaqueFunction(function=node)]
    )
