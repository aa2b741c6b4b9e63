#!/usr/bin/env python3
"""How well the cell-type model's confidences are calibrated, and what a temperature does
(issue 27).

Reads `smearscope-cli classify --json MODEL FILES` of the validation crops of each
source (SOURCE=FILE.json; a crop's class is its folder's name, which must be one of the
model's) and, for BCCD's white cells, of OUT/val/wbc/bccd-*.png against the coarse
types of data/labels/bccd-val-coarse.csv (bccd=FILE.json). Fits one temperature T
(probabilities become softmax(log p / T)) by the least negative log-likelihood on every
other crop (odd positions, sorted by path) of the typed sources, and reports the expected
calibration error (15 equal-width bins of the top probability) before and after on the
other half, per source, and on BCCD (coarse types; never in the fit).

    scripts/calibration-eval.py LABELS.csv SOURCE=FILE.json... [bccd=FILE.json]
"""
import csv
import json
import math
import os
import re
import sys

COARSE = {"neutrophil": "granulocyte", "eosinophil": "granulocyte", "basophil": "granulocyte",
          "lymphocyte": "lymphocyte", "lymphoblast": "lymphocyte", "monocyte": "monocyte"}
BINS = 15


def tempered(probs, t):
    logs = {k: math.log(max(v, 1e-30)) / t for k, v in probs.items()}
    top = max(logs.values())
    z = sum(math.exp(v - top) for v in logs.values())
    return {k: math.exp(v - top) / z for k, v in logs.items()}


def ece(items, t):
    """items: (probabilities, is_right(called class) -> bool)"""
    bins = [[0, 0.0, 0.0] for _ in range(BINS)]
    for probs, judge in items:
        p = tempered(probs, t)
        called = max(p, key=p.get)
        b = min(BINS - 1, int(p[called] * BINS))
        bins[b][0] += 1
        bins[b][1] += p[called]
        bins[b][2] += 1.0 if judge(called) else 0.0
    n = sum(b[0] for b in bins)
    return sum(abs(b[1] - b[2]) for b in bins if b[0]) / n if n else 0.0, n


def nll(items, t):
    return -sum(math.log(max(tempered(p, t)[truth], 1e-30)) for p, truth in items)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[-1].strip())
    labels = {}
    with open(sys.argv[1]) as f:
        for row in csv.DictReader(f):
            labels.setdefault(row["image"], []).append(row["coarse_type"])
    sources, bccd = {}, None
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        with open(path) as f:
            rows = sorted(json.load(f), key=lambda r: r["image"])
        if name == "bccd":
            bccd = rows
        else:
            sources[name] = rows
    fit, held = [], {}
    for name, rows in sources.items():
        held[name] = []
        for i, r in enumerate(rows):
            truth = os.path.basename(os.path.dirname(r["image"]))
            if truth not in r["probabilities"]:
                continue
            if i % 2:
                fit.append((r["probabilities"], truth))
            else:
                held[name].append((r["probabilities"], lambda c, t=truth: c == t))
    # golden-section search for T in [0.05, 20] on a log scale
    lo, hi = math.log(0.05), math.log(20.0)
    for _ in range(60):
        a, b = lo + (hi - lo) * 0.382, lo + (hi - lo) * 0.618
        if nll(fit, math.exp(a)) < nll(fit, math.exp(b)):
            hi = b
        else:
            lo = a
    t = math.exp((lo + hi) / 2)
    print(f"temperature fitted on {len(fit)} crops (odd positions of {', '.join(sources)}): "
          f"T = {t:.3f}")
    print("source\tcrops\tECE at T = 1\tECE at T")
    for name, items in held.items():
        before, n = ece(items, 1.0)
        after, _ = ece(items, t)
        print(f"{name}\t{n}\t{before:.4f}\t{after:.4f}")
    if bccd is not None:
        items = []
        by_image = {}
        for r in bccd:
            m = re.match(r"bccd-(.+)-(\d+)\.png$", os.path.basename(r["image"]))
            by_image.setdefault(m.group(1), []).append((int(m.group(2)), r))
        for image, found in by_image.items():
            for (_, r), truth in zip(sorted(found, key=lambda x: x[0]), labels.get(image, [])):
                if truth != "unclear":
                    items.append((r["probabilities"],
                                  lambda c, t=truth: COARSE.get(c, c) == t))
        before, n = ece(items, 1.0)
        after, _ = ece(items, t)
        print(f"bccd (coarse, by eye)\t{n}\t{before:.4f}\t{after:.4f}")


if __name__ == "__main__":
    main()
