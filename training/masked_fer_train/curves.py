"""Training curves of every run whose log is kept in results/<run>/log.csv: masked (v1 masks and,
for runs on the mask families, dashed, the families) and clean validation accuracy per epoch, and
training loss, in one PNG (docs/training_curves.png). A run started from another run's weights
(`train --init-from` or `--init-onnx`) is drawn from where that run's best epoch left off.

  python -m masked_fer_train.curves
"""
import csv
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .paths import TRAINING_DIR  # noqa: E402

OUT = TRAINING_DIR / "docs" / "training_curves.png"


def first_epoch(run_dir) -> int:
    """0, or for a warm restart (`--init-from`, `--init-onnx`) the epoch after the best epoch of
    the run it started from."""
    config = run_dir / "config.json"
    config = json.loads(config.read_text()) if config.exists() else {}
    if config.get("init_onnx_run"):
        return config["init_onnx_epoch"] + 1
    if not config.get("init_from"):
        return 0
    return json.loads((run_dir.parent / config["init_from"] / "metrics.json").read_text())["epoch"] + 1


def main():
    logs = sorted((TRAINING_DIR / "results").glob("*/log.csv"))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for log in logs:
        rows = list(csv.DictReader(open(log)))
        start = first_epoch(log.parent)
        epochs = [int(r["epoch"]) + start for r in rows]
        name = log.parent.name
        line, = axes[0].plot(epochs, [float(r["val_masked_acc"]) for r in rows], label=name)
        if "val_families_acc" in rows[0]:  # runs on the mask families: dashed, on the families
            axes[0].plot(epochs, [float(r["val_families_acc"]) for r in rows], "--", color=line.get_color(),
                         label=f"{name} (families)")
        axes[1].plot(epochs, [float(r["val_clean_acc"]) for r in rows], color=line.get_color(), label=name)
        axes[2].plot(epochs, [float(r["train_loss"]) for r in rows], color=line.get_color(), label=name)
    titles = ["masked validation accuracy (FER2013 labels; v1 masks, dashed: families)", "clean validation accuracy (FER2013 labels)",
              "training loss (its own targets)"]
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=100)
    print(f"wrote {OUT} from {len(logs)} runs")


if __name__ == "__main__":
    main()
