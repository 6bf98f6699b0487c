//! The processing thread: takes the newest frame of each camera, runs the pipeline, tracks
//! faces and publishes everything a frame produces. It owns the ONNX sessions, so inference
//! never runs on the thread that spins rcl. Bad frames are counted, logged once per reason and
//! answered with an empty detection array; nothing here stops the node.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use r2r::sensor_msgs::msg::{CompressedImage, Image};
use r2r::QosProfile;

use super::camera_info::Calibrations;
use super::diagnostics::Stats;
use super::latest::{lock, Latest, Pending};
use super::logging::{reason_key, RateLimit};
use super::messages::{self as ros_messages, CdrPublisher};
use super::params::ParamStore;
use super::shared_node::SharedNode;
use crate::io::bag::msgs::{
    Detection2DArray, Expression, FacialLandmarks, Header, IdsList, Image as ImageMsg,
    NormalizedRegionOfInterest2D, TFMessage,
};
use crate::params::{camera_info_topic, NodeParams};
use crate::perception::image::RawImage;
use crate::perception::pipeline::Pipeline;
use crate::tracking::frame::{CameraSession, FaceOutput, FrameImages, FrameInput};
use crate::tracking::messages;
use crate::Error;

/// A camera frame as received.
pub enum Frame {
    Raw(Image),
    Compressed(CompressedImage),
}

impl Frame {
    fn header(&self) -> Header {
        ros_messages::header(match self {
            Frame::Raw(m) => &m.header,
            Frame::Compressed(m) => &m.header,
        })
    }

    fn input(&self) -> FrameInput<'_> {
        match self {
            Frame::Raw(m) => FrameInput::Raw(RawImage {
                width: m.width,
                height: m.height,
                step: m.step,
                encoding: &m.encoding,
                is_bigendian: m.is_bigendian != 0,
                data: &m.data,
            }),
            Frame::Compressed(m) => FrameInput::Compressed {
                format: &m.format,
                data: &m.data,
            },
        }
    }
}

/// Publishers that live as long as the node.
pub struct Outputs {
    pub detections: CdrPublisher<Detection2DArray>,
    pub tracked: CdrPublisher<IdsList>,
    pub debug_image: CdrPublisher<ImageMsg>,
    /// `/tf`: the face and gaze frames.
    pub tf: CdrPublisher<TFMessage>,
}

/// ROS4HRI publishers of one face, created when its track is confirmed, destroyed when retired.
struct FaceTopics {
    roi: CdrPublisher<NormalizedRegionOfInterest2D>,
    expression: CdrPublisher<Expression>,
    landmarks: CdrPublisher<FacialLandmarks>,
    cropped: CdrPublisher<ImageMsg>,
    aligned: CdrPublisher<ImageMsg>,
}

struct Camera {
    topic: String,
    session: CameraSession,
    /// Face ids of this camera's confirmed tracks.
    confirmed: Vec<String>,
    /// Why its face frames are not on /tf, once said (said again only when the reason changes).
    no_tf: Option<String>,
}

pub struct Worker {
    pipeline: Pipeline,
    node: Arc<SharedNode>,
    store: Arc<Mutex<ParamStore>>,
    generation: u64,
    params: NodeParams,
    stats: Arc<Mutex<Stats>>,
    latest: Arc<Latest<Frame>>,
    calibrations: Calibrations,
    outputs: Outputs,
    cameras: Vec<Camera>,
    faces: HashMap<String, FaceTopics>,
    log_limit: RateLimit,
}

impl Worker {
    pub fn new(
        pipeline: Pipeline,
        node: Arc<SharedNode>,
        store: Arc<Mutex<ParamStore>>,
        stats: Arc<Mutex<Stats>>,
        latest: Arc<Latest<Frame>>,
        calibrations: Calibrations,
        outputs: Outputs,
    ) -> Self {
        let (params, generation) = {
            let s = lock(&store);
            (s.params.clone(), s.generation)
        };
        let n = params.image_topics.len();
        let cameras = params
            .image_topics
            .iter()
            .enumerate()
            .map(|(i, t)| Camera {
                topic: t.clone(),
                session: CameraSession::new(i, n, params.tracker),
                confirmed: Vec::new(),
                no_tf: None,
            })
            .collect();
        Self {
            pipeline,
            node,
            store,
            generation,
            params,
            stats,
            latest,
            calibrations,
            outputs,
            cameras,
            faces: HashMap::new(),
            log_limit: RateLimit::new(Duration::from_secs(10)),
        }
    }

    /// Process frames until [`Latest::close`]; then retire every face and hand back the
    /// pipeline and the publishers (for the next activation).
    pub fn run(mut self) -> (Pipeline, Outputs) {
        while let Some((camera, pending)) = self.latest.take() {
            self.apply_parameter_changes();
            self.frame(camera, pending);
        }
        let ids: Vec<String> = self.faces.keys().cloned().collect();
        self.retire(&ids);
        (self.pipeline, self.outputs)
    }

    /// Live parameters (thresholds, tracking, smoothing, outputs) take effect from this frame.
    fn apply_parameter_changes(&mut self) {
        let (params, generation) = {
            let s = lock(&self.store);
            if s.generation == self.generation {
                return;
            }
            (s.params.clone(), s.generation)
        };
        if let Err(e) = self.pipeline.set_detector_limits(&params.pipeline.detector) {
            log::warn!("detector settings not applied: {e}");
        }
        for c in &mut self.cameras {
            c.session.set_tracker(params.tracker);
        }
        if !params.hri_enabled {
            let ids: Vec<String> = self.faces.keys().cloned().collect();
            self.retire(&ids);
        }
        log::info!("parameters updated (change #{generation})");
        self.params = params;
        self.generation = generation;
    }

    fn frame(&mut self, camera: usize, pending: Pending<Frame>) {
        let header = pending.frame.header();
        let p = &self.params;
        // Images only for subscribers (image_transport's rule): a profile at 30 Hz, keyframe
        // interval 10, one face, found 15% of the node's CPU in face images nobody read.
        let listened = |pick: fn(&FaceTopics) -> &CdrPublisher<ImageMsg>| {
            self.faces.values().any(|t| pick(t).has_subscribers())
        };
        let images = FrameImages {
            debug: p.publish_debug_image && self.outputs.debug_image.has_subscribers(),
            cropped: p.hri_enabled && p.hri_cropped && listened(|t| &t.cropped),
            aligned: p.hri_enabled && p.hri_aligned && listened(|t| &t.aligned),
            face_size: p.hri_face_size,
        };
        let input = pending.frame.input();
        let out = match self.cameras[camera].session.process(
            &mut self.pipeline,
            &input,
            header.stamp.as_nanos(),
            &images,
        ) {
            Ok(out) => out,
            Err(Error::Frame(e)) => return self.reject(camera, &header, &crate::chain(&e)),
            Err(e @ (Error::Model(_) | Error::Config(_))) => {
                let reason = crate::chain(&e);
                lock(&self.stats).failed(camera, &reason);
                self.log_once(camera, &reason);
                return self.publish_detections(&header, &[]);
            }
        };
        lock(&self.stats).resolution(camera, (out.width, out.height));
        if out.tracks_restarted {
            let message = format!(
                "resolution changed to {}x{}; face tracks restarted",
                out.width, out.height
            );
            self.log_once(camera, &message);
        }
        self.publish_detections(&header, &out.faces);
        if self.params.hri_enabled {
            self.publish_hri(camera, &header, &out.faces, (out.width, out.height));
            if self.params.hri_tf {
                self.publish_face_frames(camera, &header, &out.faces, (out.width, out.height));
            }
        }
        if let Some(img) = out.debug_image {
            let msg = messages::image(&header, img);
            if let Err(e) = self.outputs.debug_image.publish(&msg) {
                self.log_once(camera, &format!("cannot publish the debug image: {e}"));
            }
        }
        let latency = pending.arrived.elapsed();
        lock(&self.stats).processed(camera, latency, out.faces.len(), out.keyframe);
    }

    fn publish_detections(&mut self, header: &Header, faces: &[FaceOutput]) {
        if let Err(e) = self
            .outputs
            .detections
            .publish(&messages::detections(header, faces))
        {
            log::error!("cannot publish detections: {e}");
        }
    }

    /// A frame that cannot be used: counted, logged once per reason, and answered with an
    /// empty detection array (consumers still see the frame was handled).
    fn reject(&mut self, camera: usize, header: &Header, reason: &str) {
        lock(&self.stats).rejected(camera, reason);
        self.log_once(camera, &format!("frame rejected: {reason}"));
        self.publish_detections(header, &[]);
    }

    fn log_once(&mut self, camera: usize, message: &str) {
        let topic = &self.cameras[camera].topic;
        if let Some(suppressed) = self.log_limit.allow(&reason_key(topic, message)) {
            let more = if suppressed > 0 {
                format!(" ({suppressed} more since the last report)")
            } else {
                String::new()
            };
            log::warn!("{topic}: {message}{more}");
        }
    }

    /// `/humans/faces/<id>/{roi,expression,landmarks,cropped,aligned}` for this frame's confirmed faces, publishers
    /// created and retired with the tracks, then `/humans/faces/tracked` for all cameras.
    fn publish_hri(
        &mut self,
        camera: usize,
        header: &Header,
        faces: &[FaceOutput],
        size: (usize, usize),
    ) {
        let cam = &mut self.cameras[camera];
        cam.confirmed = cam.session.confirmed_ids();
        let new: Vec<&str> = faces
            .iter()
            .filter(|f| f.confirmed && !self.faces.contains_key(&f.id))
            .map(|f| f.id.as_str())
            .collect();
        self.create_face_topics(&new);
        for face in faces.iter().filter(|f| f.confirmed) {
            let id = &face.id;
            let Some(topics) = self.faces.get(id) else {
                continue;
            };
            let image =
                |publisher: &CdrPublisher<ImageMsg>, img: &Option<image::RgbImage>| match img {
                    Some(i) if publisher.has_subscribers() => {
                        publisher.publish(&messages::image(header, i.clone()))
                    }
                    _ => Ok(()),
                };
            let sent = topics
                .roi
                .publish(&messages::roi(header, face, size))
                .and_then(|_| {
                    face.expression.as_ref().map_or(Ok(()), |e| {
                        topics.expression.publish(&messages::expression(header, e))
                    })
                })
                .and_then(|_| {
                    let on = self.params.hri_landmarks;
                    let msg = on.then(|| messages::landmarks(header, face, size));
                    msg.map_or(Ok(()), |m| topics.landmarks.publish(&m))
                })
                .and_then(|_| image(&topics.cropped, &face.cropped))
                .and_then(|_| image(&topics.aligned, &face.aligned));
            if let Err(e) = sent {
                log::error!("cannot publish face {id}: {e}");
            }
        }
        let alive: BTreeSet<String> = self
            .cameras
            .iter()
            .flat_map(|c| c.confirmed.iter().cloned())
            .collect();
        let gone: Vec<String> = self
            .faces
            .keys()
            .filter(|id| !alive.contains(*id))
            .cloned()
            .collect();
        self.retire(&gone);
        if let Err(e) = self
            .outputs
            .tracked
            .publish(&messages::tracked(header, alive.into_iter().collect()))
        {
            log::error!("cannot publish /humans/faces/tracked: {e}");
        }
    }

    /// `face_<id>` and `gaze_<id>` of this frame's confirmed faces on /tf, when the camera's
    /// calibration fits the frame and the frame names its optical frame; else one warning.
    fn publish_face_frames(
        &mut self,
        camera: usize,
        header: &Header,
        faces: &[FaceOutput],
        (width, height): (usize, usize),
    ) {
        let confirmed: Vec<&FaceOutput> = faces.iter().filter(|f| f.confirmed).collect();
        if confirmed.is_empty() {
            return;
        }
        let calibration = lock(&self.calibrations)[camera];
        let info = || camera_info_topic(&self.cameras[camera].topic);
        let not_published = match calibration {
            None => Err(format!("no calibrated camera_info on {} yet", info())),
            Some(c) if !c.fits(width, height) => Err(format!(
                "camera_info on {} is for {}x{} frames, these are {width}x{height}",
                info(),
                c.width,
                c.height
            )),
            Some(_) if header.frame_id.is_empty() => {
                Err("the frames' header.frame_id is empty".to_string())
            }
            Some(c) => Ok(c),
        };
        let cam = &mut self.cameras[camera];
        match not_published {
            Ok(c) => {
                cam.no_tf = None;
                let msg = messages::face_frames(header, &confirmed, &c, self.params.hri_face_width);
                if let Err(e) = self.outputs.tf.publish(&msg) {
                    self.log_once(camera, &format!("cannot publish face frames on /tf: {e}"));
                }
            }
            Err(why) if cam.no_tf.as_ref() != Some(&why) => {
                log::warn!("{}: face frames not published on /tf: {why}", cam.topic);
                cam.no_tf = Some(why);
            }
            Err(_) => {}
        }
    }

    /// The topics of faces confirmed this frame, all under one hold of the node: each hold waits
    /// for the spinning thread's current step, and a cut to a crowd confirms many faces at once.
    fn create_face_topics(&mut self, ids: &[&str]) {
        if ids.is_empty() {
            return;
        }
        let created: Vec<(&str, r2r::Result<FaceTopics>)> = self
            .node
            .with(|node| ids.iter().map(|id| (*id, face_topics(node, id))).collect());
        for (id, topics) in created {
            match topics {
                Ok(t) => {
                    self.faces.insert(id.to_string(), t);
                }
                Err(e) => log::error!("cannot create the ROS4HRI topics of face {id}: {e}"),
            }
        }
    }

    /// Destroy the topics of faces no longer tracked, under one hold of the node.
    fn retire(&mut self, ids: &[String]) {
        let gone: Vec<FaceTopics> = ids.iter().filter_map(|id| self.faces.remove(id)).collect();
        if gone.is_empty() {
            return;
        }
        self.node.with(|node| {
            for t in gone {
                t.roi.destroy(node);
                t.expression.destroy(node);
                t.landmarks.destroy(node);
                t.cropped.destroy(node);
                t.aligned.destroy(node);
            }
        });
    }
}

/// `/humans/faces/<id>/*`: reliable, as libhri subscribes.
fn face_topics(node: &mut r2r::Node, id: &str) -> r2r::Result<FaceTopics> {
    let topic = |name: &str| format!("/humans/faces/{id}/{name}");
    let qos = QosProfile::default;
    Ok(FaceTopics {
        roi: CdrPublisher::create(node, &topic("roi"), qos())?,
        expression: CdrPublisher::create(node, &topic("expression"), qos())?,
        landmarks: CdrPublisher::create(node, &topic("landmarks"), qos())?,
        cropped: CdrPublisher::create(node, &topic("cropped"), qos().keep_last(2))?,
        aligned: CdrPublisher::create(node, &topic("aligned"), qos().keep_last(2))?,
    })
}

/// Start the processing thread.
pub fn spawn(worker: Worker) -> std::io::Result<std::thread::JoinHandle<(Pipeline, Outputs)>> {
    std::thread::Builder::new()
        .name("masked_fer_inference".into())
        .spawn(move || worker.run())
}
