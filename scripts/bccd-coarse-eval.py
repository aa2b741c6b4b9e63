#!/usr/bin/env python3
"""The cell types on BCCD's val fields, coarsely (issue 27).

BCCD's white cells carry no type. data/labels/bccd-val-coarse.csv gives each annotated
val white cell a coarse type looked at by eye (granulocyte, lymphocyte, monocyte or
unclear; 2026-12-06, from the annotated box's crop; never to be trained on). This reads
the JSON of `smearscope-cli analyze --json FILE` run on those fields, matches each
labelled cell to the found cell it overlaps most (IoU >= 0.5), and prints how often the
coarse type is right, how many wrong calls are confident (>= 0.9), and how many cells the
analysis marks unsure (the cell's `unsure`, when the JSON has it).

    scripts/bccd-coarse-eval.py LABELS.csv ANALYSIS.json
"""
import csv
import json
import os
import sys

COARSE = {
    "neutrophil": "granulocyte", "eosinophil": "granulocyte", "basophil": "granulocyte",
    "lymphocyte": "lymphocyte", "lymphoblast": "lymphocyte",
    "monocyte": "monocyte",
}


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = min(ax + aw, bx + bw) - max(ax, bx)
    h = min(ay + ah, by + bh) - max(ay, by)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (aw * ah + bw * bh - inter)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[-1].strip())
    labels, analysis = sys.argv[1], sys.argv[2]
    with open(analysis) as f:
        images = {os.path.splitext(os.path.basename(im["path"]))[0]: im
                  for im in json.load(f)["images"]}
    n = right = confident_wrong = unsure = missed = unclear = 0
    kept = kept_right = 0
    confusion = {}
    with open(labels) as f:
        for row in csv.DictReader(f):
            truth = row["coarse_type"]
            if truth == "unclear":
                unclear += 1
                continue
            n += 1
            x1, y1, x2, y2 = (int(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
            image = images.get(row["image"])
            best, best_iou = None, 0.5
            for cell in (image["cells"] if image else []):
                overlap = iou((x1, y1, x2 - x1, y2 - y1), cell["box"])
                if overlap >= best_iou:
                    best, best_iou = cell, overlap
            if best is None:
                missed += 1
                confusion[(truth, "not found")] = confusion.get((truth, "not found"), 0) + 1
                continue
            called = COARSE.get(best["class"], best["class"])
            is_unsure = bool(best.get("unsure", False))
            confusion[(truth, called)] = confusion.get((truth, called), 0) + 1
            right += called == truth
            unsure += is_unsure
            if not is_unsure:
                kept += 1
                kept_right += called == truth
                if called != truth and best["confidence"] >= 0.9:
                    confident_wrong += 1
    print(f"BCCD val white cells with a coarse type: {n} ({unclear} unclear left out); "
          f"{missed} not found at IoU 0.5")
    print(f"coarse type right: {right}/{n} = {right / n:.3f}")
    print(f"marked unsure: {unsure}/{n} = {unsure / n:.3f}")
    print(f"right among the cells not marked unsure: {kept_right}/{kept} = "
          f"{kept_right / kept if kept else 0:.3f}")
    print(f"wrong at >= 0.9 confidence and not marked unsure: {confident_wrong}/{n} = "
          f"{confident_wrong / n:.3f}")
    print("truth -> called:", ", ".join(f"{t} -> {c}: {k}" for (t, c), k in sorted(confusion.items())))


if __name__ == "__main__":
    main()
