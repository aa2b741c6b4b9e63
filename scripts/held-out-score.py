#!/usr/bin/env python3
"""Score a cell-type model on a source it never trained on (issue 27).

Reads `smearscope-cli classify --json MODEL CROPS...` of one source's validation crops and
prints, over the white cells (not_a_cell crops left out): how many are right, how many
the model sets aside as unsure (confidence under --unsure, 0.9), how many of the rest are
right, and how many are wrong at or above it (confident wrong). A crop's truth is its
folder's name (the 8 cell classes), or, for BCCD's untyped crops (bccd-IMAGE-N.png), the
coarse type of data/labels/bccd-val-coarse.csv (granulocyte, lymphocyte, monocyte; unclear
ones left out; an image's crops in the order of their numbers are its labelled cells in
the file's order), against which calls are scored coarsely.

    scripts/held-out-score.py CLASSIFY.json [--unsure 0.9] [--name SOURCE]
"""
import argparse
import csv
import json
import os
import re

COARSE = {"neutrophil": "granulocyte", "eosinophil": "granulocyte", "basophil": "granulocyte",
          "lymphocyte": "lymphocyte", "lymphoblast": "lymphocyte", "monocyte": "monocyte"}
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--unsure", type=float, default=0.9)
    ap.add_argument("--name", default="")
    args = ap.parse_args()
    coarse = {}
    with open(os.path.join(HERE, "..", "data", "labels", "bccd-val-coarse.csv")) as f:
        for row in csv.DictReader(f):
            coarse.setdefault(row["image"], []).append(row["coarse_type"])
    scored = []   # (truth, called, confidence)
    bccd = {}
    for item in json.load(open(args.json)):
        path = item["image"]
        m = re.match(r"bccd-(.+)-(\d+)\.png$", os.path.basename(path))
        if m:
            bccd.setdefault(m.group(1), []).append((int(m.group(2)), item))
            continue
        truth = os.path.basename(os.path.dirname(path))
        if truth not in ("not_a_cell", "wbc"):
            scored.append((truth, item["class"], item["confidence"]))
    # BCCD: an image's crops in the order of their numbers are its annotated white cells
    # in the order of the labels file (as scripts/colour-transfer-eval.py pairs them)
    for image, items in bccd.items():
        for (_, item), truth in zip(sorted(items, key=lambda t: t[0]), coarse.get(image, [])):
            if truth != "unclear":
                scored.append((truth, COARSE.get(item["class"], item["class"]), item["confidence"]))
    n = right = unsure = kept_right = confident_wrong = 0
    for truth, called, confidence in scored:
        n += 1
        ok = called == truth
        right += ok
        if confidence < args.unsure:
            unsure += 1
        else:
            kept_right += ok
            confident_wrong += not ok
    kept = n - unsure
    print(f"{args.name}\tcells {n}\tright {right / n:.3f}\tunsure {unsure / n:.3f}\t"
          f"right among kept {kept_right / kept if kept else float('nan'):.3f}\t"
          f"confident wrong {confident_wrong / n:.3f}")


if __name__ == "__main__":
    main()
