"""Where things live: the shared datasets beside the checkout, caches and run outputs here."""
import os
import pathlib

TRAINING_DIR = pathlib.Path(__file__).resolve().parents[1]
REPO_DIR = TRAINING_DIR.parent
FER_DIR = pathlib.Path(os.environ.get("FER2013_DIR", REPO_DIR.parent / "shared" / "datasets" / "fer2013"))
CACHE_DIR = TRAINING_DIR / "cache"  # git-ignored
RUNS_DIR = TRAINING_DIR / "runs"  # git-ignored: checkpoints and logs
MODELS_DIR = REPO_DIR / "models"
RETINAFACE_ONNX = MODELS_DIR / "retinaface_mnet025.onnx"

# Output order of every classifier (the model contract in docs/ARCHITECTURE.md).
LABELS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
