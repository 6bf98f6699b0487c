//! ONNX Runtime: find and load the shared library once, and open sessions with typed errors.
//!
//! `ort` is built with `load-dynamic`, so nothing is downloaded at build time; the library is
//! opened here from an explicit path, `ORT_DYLIB_PATH`, or the copy that
//! `scripts/setup_onnxruntime.sh` puts in `third_party/`. `ort::init()` would panic when the
//! library is missing; `ort::init_from` returns an error, which becomes [`ModelError`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;

use crate::Cause;

/// The ONNX Runtime version this crate is pinned to (see scripts/setup_onnxruntime.sh).
pub const ORT_VERSION: &str = "1.31.1";
const SETUP_HINT: &str =
    "run `make setup` (scripts/setup_onnxruntime.sh), or pass --ort-lib / set ORT_DYLIB_PATH";

#[derive(Debug, thiserror::Error, Clone)]
pub enum ModelError {
    #[error("ONNX Runtime library not found at {path}: {hint}")]
    RuntimeMissing { path: PathBuf, hint: &'static str },
    #[error("cannot load ONNX Runtime from {path}")]
    RuntimeLoad {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("ONNX Runtime's environment was not created")]
    NoEnvironment,
    #[error("model file not found: {0}")]
    ModelMissing(PathBuf),
    #[error("cannot load model {path}")]
    ModelLoad {
        path: PathBuf,
        #[source]
        source: Cause,
    },
    #[error("model {path} does not fit: {reason}")]
    Contract { path: PathBuf, reason: String },
    #[error("inference failed in {model}")]
    Inference {
        model: String,
        #[source]
        source: Cause,
    },
}

static RUNTIME: OnceLock<Result<PathBuf, ModelError>> = OnceLock::new();
static ENVIRONMENT: OnceLock<ort::environment::Environment> = OnceLock::new();

/// Where the library is looked for when no path is given: `ORT_DYLIB_PATH`, then the copy an
/// installed package carries (`share/masked_fer/onnxruntime/`, see [`crate::perception::models::installed_dirs`]),
/// then this source tree's `third_party/` copy.
pub fn default_runtime_path() -> PathBuf {
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH") {
        return PathBuf::from(p);
    }
    let file = format!("libonnxruntime.so.{ORT_VERSION}");
    crate::perception::models::installed_dirs("onnxruntime")
        .into_iter()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("third_party/onnxruntime")
                .join(&file)
        })
}

/// Load ONNX Runtime (once per process; later calls return the first outcome).
pub fn init_runtime(path: Option<&Path>) -> Result<PathBuf, ModelError> {
    RUNTIME
        .get_or_init(|| {
            let path = path
                .map(Path::to_path_buf)
                .unwrap_or_else(default_runtime_path);
            if !path.is_file() {
                return Err(ModelError::RuntimeMissing {
                    path,
                    hint: SETUP_HINT,
                });
            }
            let failed = |source| ModelError::RuntimeLoad {
                path: path.clone(),
                source,
            };
            let builder = ort::init_from(&path).map_err(|e| failed(Cause::new(e)))?;
            let env = builder
                .with_name("masked_fer")
                .with_telemetry(false)
                .build()
                .map_err(|e| failed(Cause::new(e)))?;
            // ort only keeps a weak reference to the environment: hold it for the process.
            let _ = ENVIRONMENT.set(env);
            Ok(path)
        })
        .clone()
}

/// Open a model with `threads` intra-op threads and full graph optimisation.
/// The runtime must have been loaded with [`init_runtime`].
pub fn open_session(path: &Path, threads: usize) -> Result<Session, ModelError> {
    init_runtime(None)?;
    let env = ENVIRONMENT.get().ok_or(ModelError::NoEnvironment)?;
    if !path.is_file() {
        return Err(ModelError::ModelMissing(path.to_path_buf()));
    }
    // The builder's errors carry the builder back; `ort::Error::from` drops it.
    let fail = |e| load_error(path, ort::Error::<()>::from(e));
    Session::builder(env)
        .map_err(|e| load_error(path, e))?
        .with_intra_threads(threads.max(1))
        .map_err(fail)?
        .with_inter_threads(1)
        .map_err(fail)?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(fail)?
        .commit_from_file(path)
        .map_err(|e| load_error(path, e))
}

/// An `ort` error raised while loading `path`.
pub(crate) fn load_error(
    path: &Path,
    e: impl std::error::Error + Send + Sync + 'static,
) -> ModelError {
    ModelError::ModelLoad {
        path: path.to_path_buf(),
        source: Cause::new(e),
    }
}

/// Name of the model's first input (every model here takes one tensor).
pub(crate) fn first_input_name(session: &Session, model: &Path) -> Result<String, ModelError> {
    session
        .inputs()
        .first()
        .map(|i| i.name().to_string())
        .ok_or_else(|| contract_error(model, "model has no input".into()))
}

/// `model` does not fit what the code expects of it (inputs, outputs, metadata).
pub(crate) fn contract_error(model: &Path, reason: String) -> ModelError {
    ModelError::Contract {
        path: model.to_path_buf(),
        reason,
    }
}

/// Turn any `ort` error raised while running `model` into a [`ModelError`].
pub(crate) fn inference_error(model: &Path) -> impl Fn(ort::Error) -> ModelError + '_ {
    move |e| ModelError::Inference {
        model: model.display().to_string(),
        source: Cause::new(e),
    }
}
