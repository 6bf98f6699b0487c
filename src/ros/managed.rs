//! What the node does in each lifecycle transition ([`super::lifecycle`]): configure loads the
//! models, activate subscribes to the cameras and starts the processing thread, deactivate
//! stops both (an inactive node holds its models and costs almost nothing), cleanup drops the
//! models, shutdown leaves nothing running.

use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use r2r::sensor_msgs::msg::{CompressedImage, Image};
use r2r::QosProfile;
use tokio::task::JoinHandle;

use super::diagnostics::Stats;
use super::latest::{lock, Latest};
use super::messages::{ros_now, RosClock};
use super::params::ParamStore;
use super::shared_node::SharedNode;
use super::worker::{self, Frame, Outputs, Worker};
use crate::params::{NodeParams, Transport};
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

    fn subscribe(&self, latest: &Arc<Latest<Frame>>) -> r2r::Result<Vec<JoinHandle<()>>> {
        let p = &self.params;
        let qos = QosProfile::sensor_data().keep_last(p.qos_depth);
        let qos = if p.reliable {
            qos.reliable()
        } else {
            qos.best_effort()
        };
        let mut forwards = Vec::new();
        for (i, topic) in p.image_topics.iter().enumerate() {
            let (latest, stats) = (latest.clone(), self.stats.clone());
            let clock = self.node.with(|node| node.get_ros_clock());
            let frames = self.node.with(|node| match p.transport {
                Transport::Raw => node
                    .subscribe::<Image>(topic, qos.clone())
                    .map(|s| s.map(Frame::Raw).boxed()),
                Transport::Compressed => node
                    .subscribe::<CompressedImage>(
                        &format!("{}/compressed", topic.trim_end_matches('/')),
                        qos.clone(),
                    )
                    .map(|s| s.map(Frame::Compressed).boxed()),
            })?;
            forwards.push(tokio::spawn(forward(frames, i, latest, stats, clock)));
        }
        Ok(forwards)
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
        let latest = Arc::new(Latest::new(self.params.image_topics.len()));
        if self.pipeline.is_none() || self.outputs.is_none() {
            return Err("not configured".into());
        }
        let forwards = self
            .subscribe(&latest)
            .map_err(|e| format!("cannot subscribe to the cameras: {e}"))?;
        let (Some(pipeline), Some(outputs)) = (self.pipeline.take(), self.outputs.take()) else {
            return Err("not configured".into());
        };
        let worker = Worker::new(
            pipeline,
            self.node.clone(),
            self.store.clone(),
            self.stats.clone(),
            latest.clone(),
            outputs,
        );
        let worker = worker::spawn(worker)
            .map_err(|e| format!("cannot start the processing thread: {e}"))?;
        self.running = Some(Running {
            latest,
            forwards,
            worker,
        });
        Ok(())
    }

    fn deactivate(&mut self) -> Result<(), String> {
        let Some(r) = self.running.take() else {
            return Ok(());
        };
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
