//! Labelled face crops laid out one folder per class (`DIR/<class>/*.{jpg,jpeg,png}`, the layout
//! of FER2013 and of most expression data sets), as used by `masked_fer eval-classifier`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CropsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{dir} has no image in a folder named after a class ({classes})")]
    Empty { dir: PathBuf, classes: String },
    #[error("{dir}: folder {folder:?} is not a class of the model ({classes})")]
    UnknownClass {
        dir: PathBuf,
        folder: String,
        classes: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LabelledFace {
    pub path: PathBuf,
    /// Index into the model's labels.
    pub class: usize,
}

/// The faces found, and how many files `exclude` left out.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledFaces {
    pub faces: Vec<LabelledFace>,
    pub excluded: usize,
}

/// Every image under `dir/<class>/`, sorted, skipping files whose name is in `exclude` (e.g.
/// FER2013's validation images that duplicate training images). Class folders are matched to
/// `classes` by name (FER names or ROS4HRI words); other folders are an error, not skipped, so a
/// misnamed class cannot silently vanish from the score.
pub fn list_labelled_faces(
    dir: &Path,
    classes: &[String],
    exclude: &BTreeSet<String>,
) -> Result<LabelledFaces, CropsError> {
    let (mut faces, mut excluded) = (Vec::new(), 0);
    for folder in entries(dir)? {
        if !folder.is_dir() {
            continue;
        }
        let name = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(class) = classes
            .iter()
            .position(|c| *c == crate::tracking::expression::fer_name(&name))
        else {
            return Err(CropsError::UnknownClass {
                dir: dir.to_path_buf(),
                folder: name,
                classes: classes.join(", "),
            });
        };
        for path in entries(&folder)? {
            let is_image = path.extension().is_some_and(|e| {
                ["jpg", "jpeg", "png"].contains(&e.to_string_lossy().to_ascii_lowercase().as_str())
            });
            if !is_image {
                continue;
            }
            let skip = path
                .file_name()
                .is_some_and(|n| exclude.contains(n.to_string_lossy().as_ref()));
            if skip {
                excluded += 1;
            } else {
                faces.push(LabelledFace { path, class });
            }
        }
    }
    if faces.is_empty() {
        return Err(CropsError::Empty {
            dir: dir.to_path_buf(),
            classes: classes.join(", "),
        });
    }
    faces.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(LabelledFaces { faces, excluded })
}

/// The paths in `dir`, with any read failure naming `dir`.
fn entries(dir: &Path) -> Result<Vec<PathBuf>, CropsError> {
    let read_error = |source: std::io::Error| CropsError::Read {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::read_dir(dir)
        .map_err(read_error)?
        .map(|e| e.map(|e| e.path()).map_err(read_error))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes() -> Vec<String> {
        ["angry", "fear", "happy"].map(String::from).to_vec()
    }

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    #[test]
    fn lists_class_folders_and_skips_excluded_and_non_images() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("happy/b.jpg"));
        touch(&d.path().join("happy/a.PNG"));
        touch(&d.path().join("scared/c.jpeg")); // ROS4HRI word for fear
        touch(&d.path().join("angry/dup.jpg"));
        touch(&d.path().join("angry/notes.txt"));
        touch(&d.path().join("README.md"));
        let exclude = BTreeSet::from(["dup.jpg".to_string()]);
        let got = list_labelled_faces(d.path(), &classes(), &exclude).unwrap();
        assert_eq!(got.excluded, 1);
        let names: Vec<(String, usize)> = got
            .faces
            .iter()
            .map(|f| {
                let rel = f.path.strip_prefix(d.path()).unwrap();
                (rel.to_string_lossy().into_owned(), f.class)
            })
            .collect();
        assert_eq!(
            names,
            [
                ("happy/a.PNG".to_string(), 2),
                ("happy/b.jpg".to_string(), 2),
                ("scared/c.jpeg".to_string(), 1)
            ]
        );
    }

    #[test]
    fn unknown_folders_and_empty_sets_are_named() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("contempt/a.jpg"));
        let e = list_labelled_faces(d.path(), &classes(), &BTreeSet::new()).unwrap_err();
        assert!(e.to_string().contains("\"contempt\""), "{e}");
        let d = tempfile::tempdir().unwrap();
        let e = list_labelled_faces(d.path(), &classes(), &BTreeSet::new()).unwrap_err();
        assert!(e.to_string().contains("no image"), "{e}");
        let e = list_labelled_faces(&d.path().join("missing"), &classes(), &BTreeSet::new())
            .unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
