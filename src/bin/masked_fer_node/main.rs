//! `masked_fer_node`: the ROS 2 node. Camera topics in; `~/detections`, ROS4HRI faces,
//! `/diagnostics` and `~/debug_image` out. rcl parses the command line (`--ros-args`, remaps,
//! `-p`, `--params-file`); see `--help`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use r2r::diagnostic_msgs::msg::DiagnosticArray;
use r2r::qos::ReliabilityPolicy;
use r2r::std_msgs::msg::Header;
use r2r::QosProfile;

use masked_fer::alloc_count::CountingAlloc;
use masked_fer::params::{NodeParams, SPECS};
use masked_fer::perception::runtime;
use masked_fer::ros::diagnostics::{Limits, Stats};
use masked_fer::ros::latest::lock;
use masked_fer::ros::lifecycle::{self, Lifecycle};
use masked_fer::ros::managed::ManagedNode;
use masked_fer::ros::messages::{ros_now, CdrPublisher, RosClock};
use masked_fer::ros::params::ParamStore;
use masked_fer::ros::shared_node::SharedNode;
use masked_fer::ros::worker::Outputs;
use masked_fer::ros::{input_match, logging, messages, param_services};

const NODE_NAME: &str = "masked_fer";

/// Counts allocations for the heap figures of the pipeline diagnostics.
#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

fn help() -> String {
    let mut s = String::from(
        "masked_fer_node: face detection and masked-face expression recognition for ROS 2.

Usage:
  masked_fer_node [--ros-args [-r FROM:=TO] [-p NAME:=VALUE] [--params-file FILE]
                  [-r __node:=NAME] [-r __ns:=/NAMESPACE] [--log-level LEVEL]]
  ros2 launch masked_fer masked_fer.launch.py image_topics:=/camera/image_raw

Subscribes:   each of image_topics (sensor_msgs/Image), or <topic>/compressed
              (sensor_msgs/CompressedImage) with input_transport:=compressed; the
              camera_info beside each (sensor_msgs/CameraInfo, for the face frames on /tf)
Publishes:    ~/detections (vision_msgs/Detection2DArray), /humans/faces/tracked
              (hri_msgs/IdsList), /humans/faces/<id>/roi (hri_msgs/NormalizedRegionOfInterest2D),
              /humans/faces/<id>/expression (hri_msgs/Expression), /humans/faces/<id>/landmarks
              (hri_msgs/FacialLandmarks), /humans/faces/<id>/cropped and /aligned
              (sensor_msgs/Image), /tf (face_<id>, gaze_<id>; from camera_info), /diagnostics
              (diagnostic_msgs/DiagnosticArray), ~/debug_image (sensor_msgs/Image, when enabled)
Lifecycle:    a managed node (lifecycle_msgs services <node>/change_state, get_state, ...;
              ros2 lifecycle set); autostart:=true (default) configures and activates at once
Environment:  ORT_DYLIB_PATH (ONNX Runtime library), MASKED_FER_MODELS (models directory)

Parameters (ros2 param list/get/set; 'Live' ones apply at once when set while running):
",
    );
    for p in SPECS {
        s.push_str(&format!("  {}\n      {}\n", p.name, p.description()));
    }
    s
}

fn main() {
    // rcl ignores arguments outside --ros-args; answer --help before starting ROS.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let user_args = args.iter().take_while(|a| *a != "--ros-args");
    if user_args.clone().any(|a| a == "-h" || a == "--help") {
        print!("{}", help());
        return;
    }
    if let Some(a) = user_args.clone().next() {
        eprintln!("masked_fer_node: unexpected argument {a:?} (ROS arguments go after --ros-args; see --help)");
        std::process::exit(2);
    }
    if let Err(e) = run() {
        eprintln!("masked_fer_node: {e:#}");
        std::process::exit(2);
    }
}

/// What to check when rcl refuses the node: its reason stays in rcl's log line above ours.
fn node_create_hint() -> String {
    match std::env::var("ROS_SECURITY_ENABLE") {
        Ok(v) if v.eq_ignore_ascii_case("true") => format!(
            "ROS_SECURITY_ENABLE is true: the DDS must be built with security (the pip wheels' \
             Fast DDS is not) and ROS_SECURITY_KEYSTORE ({}) must hold this node's enclave; see \
             RELIABILITY.md",
            std::env::var("ROS_SECURITY_KEYSTORE").unwrap_or_else(|_| "unset".into())
        ),
        _ => "check __node / __ns remaps".into(),
    }
}

fn run() -> Result<()> {
    let ctx = r2r::Context::create().map_err(|e| {
        anyhow!("cannot initialise ROS 2 (rcl): {e}; is a ROS 2 environment sourced and HOME or ROS_LOG_DIR set?")
    })?;
    let mut node = r2r::Node::create(ctx, NODE_NAME, "")
        .map_err(|e| anyhow!("cannot create the node: {e} ({})", node_create_hint()))?;
    logging::forward_to_rcl(node.logger());
    let node_name = node.name().unwrap_or_else(|_| NODE_NAME.into());

    // Parameters: start-up values from rcl are validated here; a bad one stops start-up.
    let store = ParamStore::from_rcl(&mut lock(&node.params)).context("parameters")?;
    for name in lock(&node.params).keys() {
        log::warn!("ignoring unknown parameter {name:?} (see masked_fer_node --help)");
    }
    let params = store.params.clone();
    let store = Arc::new(Mutex::new(store));
    let param_services = param_services::serve(&mut node, store.clone())
        .context("cannot create the parameter services")?;

    if params.use_sim_time {
        node.get_time_source()
            .enable_sim_time(&mut node)
            .context("use_sim_time: cannot subscribe to /clock")?;
    }
    let clock = node.get_ros_clock();

    let ort = runtime::init_runtime(None).context("ONNX Runtime")?;
    let stats = Arc::new(Mutex::new(Stats::new(
        &params.image_topics,
        ros_now(&clock),
    )));
    let outputs = Outputs {
        detections: CdrPublisher::create(&mut node, "~/detections", QosProfile::default())
            .context("cannot create ~/detections")?,
        tracked: CdrPublisher::create(&mut node, "/humans/faces/tracked", QosProfile::default())
            .context("cannot create /humans/faces/tracked")?,
        debug_image: CdrPublisher::create(
            &mut node,
            "~/debug_image",
            QosProfile::default().keep_last(2),
        )
        .context("cannot create ~/debug_image")?,
        // As tf2's TransformBroadcaster: reliable, keep last 100.
        tf: CdrPublisher::create(&mut node, "/tf", QosProfile::default().keep_last(100))
            .context("cannot create /tf")?,
    };
    let diagnostics = node
        .create_publisher::<DiagnosticArray>("/diagnostics", QosProfile::default())
        .context("cannot create /diagnostics")?;
    let inputs = Inputs::of(&params, node.namespace().unwrap_or_default());

    // The lifecycle: configure loads the models, activate subscribes; with autostart both now.
    let node = Arc::new(SharedNode::new(node));
    let managed = Arc::new(Mutex::new(ManagedNode::new(
        node.clone(),
        store.clone(),
        stats.clone(),
        outputs,
    )));
    let (lifecycle, lifecycle_services) = node
        .with(|n| lifecycle::serve(n, managed.clone()))
        .context("cannot create the lifecycle services")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let entered = rt.enter(); // activation spawns the cameras' forwarding tasks on it
    if params.autostart {
        for t in [lifecycle::CONFIGURE, lifecycle::ACTIVATE] {
            lifecycle
                .trigger(&mut *lock(&managed), t, "")
                .map_err(|e| anyhow!(e))?;
        }
        log::info!(
            "ONNX Runtime {} ({}); listening to {} ({:?}, {})",
            runtime::ORT_VERSION,
            ort.display(),
            params.image_topics.join(", "),
            params.transport,
            if params.reliable {
                "reliable"
            } else {
                "best effort"
            }
        );
    } else {
        log::info!("unconfigured: waiting for a lifecycle manager (autostart is false)");
    }
    drop(entered);

    let stop = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let spin = {
            let (node, stop) = (node.clone(), stop.clone());
            tokio::task::spawn_blocking(move || {
                while !stop.load(Ordering::Relaxed) {
                    node.spin_once(Duration::from_millis(10));
                }
            })
        };
        tokio::spawn(param_services);
        tokio::spawn(lifecycle_services);
        tokio::spawn(publish_diagnostics(
            diagnostics,
            node_name,
            node.clone(),
            inputs,
            lifecycle.clone(),
            store,
            stats,
            managed.clone(),
            clock,
        ));
        shutdown_signal().await;
        log::info!("shutting down");
        stop.store(true, Ordering::Relaxed);
        let _ = spin.await;
    });
    if let Err(e) = lifecycle::Managed::shutdown(&mut *lock(&managed)) {
        log::warn!("shutdown: {e}");
    }
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(())
}

/// (topic, message type) of a camera subscription.
type Input = (String, &'static str);

/// The cameras as subscribed: what the graph check compares publishers against.
struct Inputs {
    namespace: String,
    topics: Vec<Input>,
    reliable: bool,
}

impl Inputs {
    fn of(params: &NodeParams, namespace: String) -> Self {
        let topics = params
            .image_topics
            .iter()
            .map(|t| params.transport.input(t))
            .collect();
        Self {
            namespace,
            topics,
            reliable: params.reliable,
        }
    }

    /// Ask the graph, per camera, whether any publisher can deliver; a new reason is logged.
    fn check(&self, node: &SharedNode, stats: &Mutex<Stats>) {
        for (i, (topic, expected)) in self.topics.iter().enumerate() {
            let name = input_match::resolve(topic, &self.namespace);
            let found = node
                .with(|n| n.get_publishers_info_by_topic(&name, false))
                .unwrap_or_default();
            let publishers: Vec<input_match::Publisher> = found
                .into_iter()
                .map(|p| input_match::Publisher {
                    node: input_match::resolve(&p.node_name, &p.node_namespace),
                    type_name: p.topic_type,
                    reliable: p.qos_profile.reliability == ReliabilityPolicy::Reliable,
                })
                .collect();
            let problem = input_match::mismatch(expected, self.reliable, &publishers);
            if let Some(why) = lock(stats).input_problem(i, problem) {
                log::warn!("{topic}: no frames can arrive: {why}");
            }
        }
    }
}

/// `/diagnostics` every period while active (an inactive node has no inputs to report on).
#[allow(clippy::too_many_arguments)]
async fn publish_diagnostics(
    publisher: r2r::Publisher<DiagnosticArray>,
    node_name: String,
    node: Arc<SharedNode>,
    inputs: Inputs,
    lifecycle: Arc<Lifecycle>,
    store: Arc<Mutex<ParamStore>>,
    stats: Arc<Mutex<Stats>>,
    managed: Arc<Mutex<ManagedNode>>,
    clock: RosClock,
) {
    loop {
        let (period, limits) = {
            let p = &lock(&store).params;
            (
                p.diagnostics_period,
                Limits {
                    min_rate: p.min_rate,
                    max_rate: p.max_rate,
                },
            )
        };
        tokio::time::sleep(Duration::from_secs_f64(period)).await;
        if lifecycle.state() != lifecycle::ACTIVE {
            continue;
        }
        inputs.check(&node, &stats);
        let about = about(lock(&managed).model_files());
        let now = ros_now(&clock);
        let statuses = lock(&stats).report(now, &node_name, &limits, &about);
        let header = Header {
            stamp: messages::stamp(now),
            frame_id: String::new(),
        };
        if let Err(e) = publisher.publish(&messages::diagnostics(header, statuses)) {
            log::error!("cannot publish /diagnostics: {e}");
        }
    }
}

/// The pipeline status's fixed values: models and ONNX Runtime version.
fn about(models: &[String]) -> Vec<(String, String)> {
    let mut about: Vec<(String, String)> = ["Detector model", "Classifier model"]
        .into_iter()
        .zip(models)
        .map(|(k, m)| (k.to_string(), m.clone()))
        .collect();
    about.push(("ONNX Runtime".to_string(), runtime::ORT_VERSION.to_string()));
    about
}

async fn shutdown_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
