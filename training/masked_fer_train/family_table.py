"""Accuracy per mask family of evaluated models (results/<name>/metrics.json from `report`), as
a Markdown table and a grouped bar chart (docs/families.png).

  python -m masked_fer_train.family_table slim_rgc_mixed64_e80_float ft_families ft_families_no_kn95

A run trained with `--hold-out FAMILY` gets its held-out family's bar hatched and its
leave-one-family-out gap in the table: accuracy on the held-out family minus the mean over
the families it saw.
"""
import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .mask_families import FAMILIES  # noqa: E402
from .paths import RUNS_DIR, TRAINING_DIR  # noqa: E402

OUT = TRAINING_DIR / "docs" / "families.png"


def held_out(name: str) -> str | None:
    for config in (TRAINING_DIR / "results" / name / "config.json", RUNS_DIR / name / "config.json"):
        if config.exists():
            return json.loads(config.read_text()).get("hold_out")
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="+", help="results/<name>/metrics.json written by `report`")
    args = ap.parse_args()
    rows = []
    for name in args.names:
        m = json.loads((TRAINING_DIR / "results" / name / "metrics.json").read_text())
        acc = [m[f"family:{f}"]["accuracy"] for f in FAMILIES]
        hold = held_out(name)
        gap = None
        if hold:
            k = FAMILIES.index(hold)
            gap = acc[k] - np.mean([a for i, a in enumerate(acc) if i != k])
        rows.append((name, acc, m["masked"]["accuracy"], m["clean"]["accuracy"], hold, gap))
    print("| model | " + " | ".join(FAMILIES) + " | mean over families | v1 masks | clean | held out: gap |")
    print("|---|" + "---|" * (len(FAMILIES) + 4))
    for name, acc, v1, clean, hold, gap in rows:
        cells = [f"**{a:.3f}**" if hold == f else f"{a:.3f}" for a, f in zip(acc, FAMILIES)]
        tail = f"{hold}: {gap * 100:+.1f} points" if hold else "-"
        print(f"| {name} | " + " | ".join(cells) + f" | {np.mean(acc):.3f} | {v1:.3f} | {clean:.3f} | {tail} |")
    fig, ax = plt.subplots(figsize=(11, 4))
    width = 0.8 / len(rows)
    for r, (name, acc, _, _, hold, _) in enumerate(rows):
        x = np.arange(len(FAMILIES)) + (r - (len(rows) - 1) / 2) * width
        bars = ax.bar(x, acc, width, label=name + (f" (without {hold})" if hold else ""))
        if hold:
            bars[FAMILIES.index(hold)].set_hatch("//")
    ax.set_xticks(range(len(FAMILIES)), FAMILIES)
    ax.set_ylabel("accuracy, FER2013 labels")
    lo = min(min(r[1]) for r in rows)
    ax.set_ylim(max(0.0, lo - 0.05), None)
    ax.set_title("validation accuracy per mask family (hatched: the family that run never saw)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(OUT, dpi=100)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
