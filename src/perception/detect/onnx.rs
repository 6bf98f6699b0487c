//! What both detectors share: an ONNX session fed one letterboxed frame per call, with its
//! input tensor and resize buffers kept between frames.

use std::path::{Path, PathBuf};

use ndarray::{Array4, ArrayView3, ArrayViewD, Axis};
use ort::session::{Session, SessionOutputs};
use ort::value::TensorRef;

use super::letterbox::{letterbox, Normalise, Placement};
use crate::perception::image::resize::{Region, RgbResizer};
use crate::perception::runtime::{
    contract_error, first_input_name, inference_error, open_session, ModelError,
};
use crate::Error;

pub(super) struct LetterboxedModel {
    model: PathBuf,
    session: Session,
    input_name: String,
    input: Array4<f32>,
    resizer: RgbResizer,
    centred: bool,
    norm: Normalise,
}

impl LetterboxedModel {
    /// Open `model` and check it has the named `outputs` (else it is not a `family` export).
    #[allow(clippy::too_many_arguments)]
    pub fn open(
        model: PathBuf,
        threads: usize,
        family: &str,
        outputs: &[&str],
        width: u32,
        height: u32,
        centred: bool,
        norm: Normalise,
    ) -> Result<Self, ModelError> {
        let session = open_session(&model, threads)?;
        let names: Vec<&str> = session.outputs().iter().map(|o| o.name()).collect();
        if let Some(missing) = outputs.iter().find(|w| !names.contains(w)) {
            let reason =
                format!("no output {missing:?} (outputs: {names:?}); not a {family} export");
            return Err(contract_error(&model, reason));
        }
        let input_name = first_input_name(&session, &model)?;
        Ok(Self {
            model,
            session,
            input_name,
            input: Array4::zeros((1, 3, height as usize, width as usize)),
            resizer: RgbResizer::default(),
            centred,
            norm,
        })
    }

    /// Letterbox `image` (or its `crop`) into the input tensor and run the network.
    pub fn run(
        &mut self,
        image: ArrayView3<'_, u8>,
        crop: Option<Region>,
    ) -> Result<NetOutput<'_>, Error> {
        let place = letterbox(
            &mut self.resizer,
            image,
            crop,
            self.input.index_axis_mut(Axis(0), 0),
            self.centred,
            &self.norm,
        )?;
        let tensor =
            TensorRef::from_array_view(&self.input).map_err(inference_error(&self.model))?;
        let outputs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(inference_error(&self.model))?;
        let (_, _, h, w) = self.input.dim();
        Ok(NetOutput {
            place,
            input_size: (w as f32, h as f32),
            outputs,
            model: &self.model,
        })
    }
}

/// One run's outputs and where the frame sat in the input.
pub(super) struct NetOutput<'a> {
    pub place: Placement,
    input_size: (f32, f32),
    outputs: SessionOutputs<'a>,
    model: &'a Path,
}

impl NetOutput<'_> {
    /// The network input's (width, height) in pixels.
    pub fn input_size(&self) -> (f32, f32) {
        self.input_size
    }

    /// The named f32 output with the expected shape.
    pub fn array(&self, name: &str, shape: &[usize]) -> Result<ArrayViewD<'_, f32>, Error> {
        let value = self
            .outputs
            .get(name)
            .ok_or_else(|| self.contract_error(format!("no output {name:?}")))?;
        let array = value
            .try_extract_array::<f32>()
            .map_err(inference_error(self.model))?;
        if array.shape() != shape {
            return Err(self.contract_error(format!(
                "output {name:?} has shape {:?}, expected {shape:?}",
                array.shape()
            )));
        }
        Ok(array)
    }

    fn contract_error(&self, reason: String) -> Error {
        contract_error(self.model, reason).into()
    }
}
