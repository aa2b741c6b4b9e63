#!/usr/bin/env python3
"""How large PBC's white cells are, measured without the analysis's own cell outline
(issue 27, the scale table of docs/analysis.md).

PBC has no drawn outlines. wbc-seg's dataset2 has: 80 CellaVision pictures, as PBC's are,
each with its cell and nucleus drawn. The nucleus is what the analysis outlines well
(Dice 0.95-0.96 on wbc-seg); its cytoplasm outline is the weak part. So, class by class,
the scale of PBC's pictures against dataset2's is read from the nuclei: the ratio of the
median nucleus area of PBC's centre cells (the analysis's outline) to that of dataset2's
cells of the same class, taken two ways (against dataset2's drawn nuclei, and against
the analysis's outline of them, so that the outline's own bias cancels); PBC's typical
white cell of that class is dataset2's drawn cell of that class (the median equivalent
diameter) times the square root of the ratio. PBC's folders hold as many of each type,
so its typical white cell is the median over the types. Assumes that a type's nucleus is
as large in PBC's patients as in dataset2's.

    scripts/pbc-scale-reference.py PBC_VAL.json DS2_VAL.json DS2_DIR

PBC_VAL.json, DS2_VAL.json: `smearscope-cli analyze --json` of PBC's val pictures and of
dataset2's val pictures, each in folders named by class; DS2_DIR: wbc-seg/dataset2
(masks/, labels.csv; all 80 drawn cells are used, none is trained on by this).
"""
import csv
import json
import math
import os
import statistics
import sys

from PIL import Image

TYPES = ["neutrophil", "lymphocyte", "monocyte", "eosinophil", "basophil"]


def centre_cells(path):
    """class -> [(nucleus area, the run's cell diameter)] of each picture's centre cell"""
    out = {}
    with open(path) as f:
        images = json.load(f)["images"]
    for im in images:
        cells = [c for c in im.get("cells", []) if "morphometrics" in c]
        if not cells:
            continue
        cx, cy = im["width"] / 2, im["height"] / 2
        c = min(cells, key=lambda c: (c["box"][0] + c["box"][2] / 2 - cx) ** 2
                + (c["box"][1] + c["box"][3] / 2 - cy) ** 2)
        cls = os.path.basename(os.path.dirname(im["path"]))
        out.setdefault(cls, []).append((c["morphometrics"]["nucleus_area"],
                                        im["scale"]["cell_diameter"]))
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.split("\n\n")[-2].strip())
    pbc, ds2 = centre_cells(sys.argv[1]), centre_cells(sys.argv[2])
    drawn = {}
    with open(os.path.join(sys.argv[3], "labels.csv")) as f:
        for row in csv.DictReader(f):
            mask = Image.open(os.path.join(sys.argv[3], "masks", row["id"] + ".png")).convert("L")
            values = list(mask.getdata())
            nucleus = sum(1 for v in values if v >= 192)
            cell = sum(1 for v in values if v >= 64)
            drawn.setdefault(row["class"], []).append((nucleus, cell))
    refs = {"drawn": [], "outlined": []}
    print("type\tPBC nucleus\tds2 drawn nucleus / cell diameter\tds2 outlined nucleus\t"
          "PBC cell by drawn\tby outlined")
    for t in TYPES:
        if t not in pbc or t not in drawn:
            continue
        p = statistics.median(a for a, _ in pbc[t])
        dn = statistics.median(n for n, _ in drawn[t])
        dd = 2 * math.sqrt(statistics.median(c for _, c in drawn[t]) / math.pi)
        by_drawn = dd * math.sqrt(p / dn)
        refs["drawn"].append(by_drawn)
        line = "%s\t%.0f (%d)\t%.0f / %.1f px (%d)" % (t, p, len(pbc[t]), dn, dd, len(drawn[t]))
        if t in ds2:
            on = statistics.median(a for a, _ in ds2[t])
            by_outlined = dd * math.sqrt(p / on)
            refs["outlined"].append(by_outlined)
            line += "\t%.0f (%d)\t%.1f\t%.1f" % (on, len(ds2[t]), by_drawn, by_outlined)
        else:
            line += "\t-\t%.1f\t-" % by_drawn
        print(line)
    used = statistics.median(d for cells in pbc.values() for _, d in cells)
    for how, values in refs.items():
        ref = statistics.median(values)
        print("PBC's typical white cell, nuclei against ds2's %s ones: %.1f px; the run's "
              "estimate %.1f px: %+.1f%%" % (how, ref, used, 100 * (used / ref - 1)))


if __name__ == "__main__":
    main()
