#!/usr/bin/env python3
"""Score the whole analysis on a source its cell-type model never trained on (issue 27).

Reads the JSON of `smearscope-cli analyze --json FILE` run on one source's validation
pictures, which lie in folders named by their label, and prints over the white cells how
many calls are right, how many the analysis marks unsure (the cell's `unsure`: low
confidence, the shape check or the camera check), how many of the rest are right, and how
many are wrong at >= 0.9 confidence without being marked unsure; then how many fields the
camera check found unlike the model's cameras, and how many had their colours mapped.

A picture's truth is its folder: lymphocyte, neutrophil, monocyte, eosinophil, basophil
or lymphoblast as named; aria-all's early, pre and pro are lymphoblast, benign lymphocyte
(its hematogones); other folders are left out. With --centre (pictures of one cell: PBC,
wbc-seg) the cell nearest the picture's centre is scored, as `evaluate --pick centre`
does; without, every counted cell of the field (aria-all: a field's cells are taken to be
its label, which its few other cells make a little low).

    scripts/held-out-analysis.py ANALYSIS.json [--centre] [--name SOURCE]
"""
import argparse
import json
import os

TRUTH = {"lymphocyte": "lymphocyte", "neutrophil": "neutrophil", "monocyte": "monocyte",
         "eosinophil": "eosinophil", "basophil": "basophil", "lymphoblast": "lymphoblast",
         "early": "lymphoblast", "pre": "lymphoblast", "pro": "lymphoblast",
         "benign": "lymphocyte"}
COUNTED = {"lymphoblast", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil",
           "other"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--centre", action="store_true")
    ap.add_argument("--name", default="")
    args = ap.parse_args()
    with open(args.json) as f:
        images = json.load(f)["images"]
    n = right = unsure = kept = kept_right = confident_wrong = 0
    fields = unlike = mapped = 0
    for image in images:
        truth = TRUTH.get(os.path.basename(os.path.dirname(image["path"])))
        if truth is None or "cells" not in image:
            continue
        fields += 1
        camera = image.get("camera", {})
        unlike += bool(camera.get("unlike_training"))
        mapped += bool(camera.get("colours_mapped"))
        cells = image["cells"]
        if args.centre:
            cx, cy = image["width"] / 2, image["height"] / 2

            def off(cell):
                x, y, w, h = cell["box"]
                return (x + w / 2 - cx) ** 2 + (y + h / 2 - cy) ** 2
            cells = sorted(cells, key=off)[:1]
        else:
            cells = [c for c in cells if c["class"] in COUNTED]
        for cell in cells:
            n += 1
            ok = cell["class"] == truth
            right += ok
            if cell.get("unsure"):
                unsure += 1
            else:
                kept += 1
                kept_right += ok
                confident_wrong += not ok and cell["confidence"] >= 0.9
    if n == 0:
        raise SystemExit("no labelled cell in %s" % args.json)
    print("%s\tcells %d\tright %.3f\tunsure %.3f\tright among kept %.3f (%d/%d)\t"
          "confident wrong %.3f\tfields %d unlike %d mapped %d"
          % (args.name, n, right / n, unsure / n, kept_right / kept if kept else 0, kept_right,
             kept, confident_wrong / n, fields, unlike, mapped))


if __name__ == "__main__":
    main()
