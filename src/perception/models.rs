//! Where default model files are found: an explicit directory, `MASKED_FER_MODELS`, the ROS
//! package share directory (`<prefix>/share/masked_fer/models` for each `AMENT_PREFIX_PATH`
//! entry), `../share/masked_fer/models` next to the executable, then this source tree.

use std::path::{Path, PathBuf};

/// The default expression model: the int8 quantisation of [`FLOAT_CLASSIFIER`] (same accuracy
/// within 0.2 points, 1.7x faster on one core; training/RESULTS.md).
pub const DEFAULT_CLASSIFIER: &str = "slim_rgc_masked_fer_int8.onnx";

/// The float model the default was quantised from: the PyTorch-parity reference.
pub const FLOAT_CLASSIFIER: &str = "slim_rgc_masked_fer.onnx";

/// `share/masked_fer/<sub>` of an installed package: for each `AMENT_PREFIX_PATH` entry, then
/// relative to the running executable (`<prefix>/lib/masked_fer/<bin>`), in that order.
pub fn installed_dirs(sub: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(prefixes) = std::env::var_os("AMENT_PREFIX_PATH") {
        dirs.extend(
            std::env::split_paths(&prefixes)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| p.join("share/masked_fer").join(sub)),
        );
    }
    if let Ok(exe) = std::env::current_exe() {
        // install/masked_fer/lib/masked_fer/<bin> -> install/masked_fer/share/masked_fer/<sub>
        if let Some(prefix) = exe.parent().and_then(Path::parent).and_then(Path::parent) {
            dirs.push(prefix.join("share/masked_fer").join(sub));
        }
    }
    dirs
}

/// Candidate model directories, most specific first.
pub fn search_dirs(explicit: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if !explicit.as_os_str().is_empty() {
        dirs.push(explicit.to_path_buf());
        return dirs;
    }
    if let Some(d) = std::env::var_os("MASKED_FER_MODELS") {
        dirs.push(PathBuf::from(d));
    }
    dirs.extend(installed_dirs("models"));
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("models"));
    dirs
}

/// Resolve a model: an explicit non-empty `chosen` path wins; otherwise `default_name` in the
/// first search directory that has it (or in the first directory, for the error message).
pub fn resolve(chosen: &Path, default_name: &str, models_dir: &Path) -> PathBuf {
    if !chosen.as_os_str().is_empty() {
        return chosen.to_path_buf();
    }
    let dirs = search_dirs(models_dir);
    dirs.iter()
        .map(|d| d.join(default_name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| dirs[0].join(default_name))
}
