//! What the node does in each lifecycle transition ([`super::lifecycle`]): configure loads the
//! models, activate subscribes to the cameras (and their camera_info) and starts the processing thread, deactivate
//! stops both (an inactive node holds its models and costs almost nothing), cleanup drops the
//! models, shutdown leaves nothing running.

use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use r2r::sensor_msgs::msg::{CameraInfo, CompressedImage, Image};
use r2r::QosProfile;
use tokio::task::JoinHandle;

use super::camera_info::{self, Calibrations};
use super::diagnostics::Stats;
use super::latest::{lock, Latest};
use super::messages::{ros_now, RosClock};
use super::params::ParamStore;
use super::shared_node::SharedNode;
use super::worker::{self, Frame, Outputs, Worker};
use crate::params::{camera_info_topic, NodeParams, Transport};
use crate::perception::pipeline::Pipeline;

/// The processing while active.
struct Running {
    latest: Arc<Latest<Frame>>,
    forwards: Vec<JoinHandle<()>>,
    worker: std::thread::JoinHandle<(Pipeline, Outputs)>,
}

pub struct ManagedNode {
    node: Arc<SharedNode>,
    /// The start-up settings (topics, transport, QoS, models).
    params: NodeParams,
    store: Arc<Mutex<ParamStore>>,
    stats: Arc<Mutex<Stats>>,
    outputs: Option<Outputs>,
    pipeline: Option<Pipeline>,
    /// The configured pipeline's model files (the pipeline itself is lent out while active).
    models: Vec<String>,
    running: Option<Running>,
}

impl ManagedNode {
    pub fn new(
        node: Arc<SharedNode>,
        store: Arc<Mutex<ParamStore>>,
        stats: Arc<Mutex<Stats>>,
        outputs: Outputs,
    ) -> Self {
        let params = lock(&store).params.clone();
        Self {
            node,
            params,
            store,
            stats,
            outputs: Some(outputs),
            pipeline: None,
            models: Vec::new(),
            running: None,
        }
    }

    /// Model files of the configured pipeline (none before configure).
    pub fn model_files(&self) -> &[String] {
        &self.models
    }

    /// Subscribe to every camera, each forwarding into `latest`, and to its camera_info, kept in
    /// `calibrations`; the forwarding tasks go into `forwards` as they start (so a failure part-way
    /// leaves nothing unaccounted for).
    fn subscribe(
        &self,
        latest: &Arc<Latest<Frame>>,
        calibrations: &Calibrations,
        forwards: &mut Vec<JoinHandle<()>>,
    ) -> r2r::Result<()> {
        let p = &self.params;
        let qos = QosProfile::sensor_data().keep_last(p.qos_depth);
        let qos = if p.reliable {
            qos.reliable()
        } else {
            qos.best_effort()
        };
        let clock = self.node.with(|node| node.get_ros_clock());
        for (i, camera) in p.image_topics.iter().enumerate() {
            let (topic, _) = p.transport.input(camera);
            let frames = self.node.with(|node| match p.transport {
                Transport::Raw => node
                    .subscribe::<Image>(&topic, qos.clone())
                    .map(|s| s.map(Frame::Raw).boxed()),
                Transport::Compressed => node
                    .subscribe::<CompressedImage>(&topic, qos.clone())
                    .map(|s| s.map(Frame::Compressed).boxed()),
            })?;
            let (latest, stats, clock) = (latest.clone(), self.stats.clone(), clock.clone());
            forwards.push(tokio::spawn(forward(frames, i, latest, stats, clock)));
            // Best effort matches every publisher, whatever the images' setting.
            let info_topic = camera_info_topic(camera);
            let infos = self.node.with(|node| {
                node.subscribe::<CameraInfo>(&info_topic, QosProfile::sensor_data().keep_last(1))
            })?;
            let follow = camera_info::follow(infos, i, info_topic, calibrations.clone());
            forwards.push(tokio::spawn(follow));
        }
        Ok(())
    }

    /// End the processing: drop the subscriptions, stop the thread, take the pipeline and the
    /// publishers back.
    fn stop(&mut self, r: Running) -> Result<(), String> {
        // A subscription whose stream is dropped is removed by r2r at its next message.
        for f in &r.forwards {
            f.abort();
        }
        r.latest.close();
        let (pipeline, outputs) = r
            .worker
            .join()
            .map_err(|_| "the processing thread panicked".to_string())?;
        self.pipeline = Some(pipeline);
        self.outputs = Some(outputs);
        Ok(())
    }
}

/// Hand every received frame of camera `i` to the processing thread (replacing a waiting one).
async fn forward(
    mut frames: impl Stream<Item = Frame> + Unpin,
    i: usize,
    latest: Arc<Latest<Frame>>,
    stats: Arc<Mutex<Stats>>,
    clock: RosClock,
) {
    while let Some(frame) = frames.next().await {
        let superseded = latest.put(i, frame);
        lock(&stats).received(i, superseded, ros_now(&clock));
    }
}

impl super::lifecycle::Managed for ManagedNode {
    fn configure(&mut self) -> Result<(), String> {
        let pipeline = Pipeline::new(self.params.pipeline.clone())
            .map_err(|e| format!("cannot start the pipeline: {}", crate::chain(&e)))?;
        let files = pipeline.model_files().into_iter();
        let files = files.map(|p| p.display().to_string());
        self.models = files.collect();
        self.pipeline = Some(pipeline);
        log::info!("models: {}", self.models.join(", "));
        Ok(())
    }

    fn activate(&mut self) -> Result<(), String> {
        let (Some(pipeline), Some(outputs)) = (self.pipeline.take(), self.outputs.take()) else {
            return Err("not configured".into());
        };
        let cameras = self.params.image_topics.len();
        let latest = Arc::new(Latest::new(cameras));
        let calibrations = camera_info::calibrations(cameras);
        let worker = Worker::new(
            pipeline,
            self.node.clone(),
            self.store.clone(),
            self.stats.clone(),
            latest.clone(),
            calibrations.clone(),
            outputs,
        );
        // A thread that cannot start takes the pipeline and publishers with it: configure again.
        let worker = worker::spawn(worker)
            .map_err(|e| format!("cannot start the processing thread: {e}"))?;
        let mut running = Running {
            latest,
            forwards: Vec::new(),
            worker,
        };
        match self.subscribe(&running.latest, &calibrations, &mut running.forwards) {
            Ok(()) => {
                self.running = Some(running);
                Ok(())
            }
            Err(e) => {
                self.stop(running)?;
                Err(format!("cannot subscribe to the cameras: {e}"))
            }
        }
    }

    fn deactivate(&mut self) -> Result<(), String> {
        match self.running.take() {
            Some(r) => self.stop(r),
            None => Ok(()),
        }
    }

    fn cleanup(&mut self) -> Result<(), String> {
        self.pipeline = None;
        self.models.clear();
        Ok(())
    }

    fn shutdown(&mut self) -> Result<(), String> {
        self.deactivate()?;
        self.cleanup()
    }
}
