#!/usr/bin/env python3
"""How well a distance threshold sets aside what the cell-type model cannot see (issue 27).

Reads the output of `smearscope-cli distance` over the validation part per source
(OUT/val-by-source/{pbc,wbcseg,aria,bccd}). The threshold is the given quantile of the
distances of the sources the model trained on (the in-distribution validation cells);
the held-out source's cells beyond it are "unsure". For BCCD's white cells, whose types
are in data/labels/bccd-val-coarse.csv (by eye; never trained on), it prints how many
right and wrong calls are set aside, and how the kept cells fare.

    scripts/distance-eval.py DISTANCE.tsv LABELS.csv [QUANTILE] [HELD_OUT_SOURCE]
"""
import csv
import os
import re
import sys

COARSE = {"neutrophil": "granulocyte", "eosinophil": "granulocyte", "basophil": "granulocyte",
          "lymphocyte": "lymphocyte", "lymphoblast": "lymphocyte", "monocyte": "monocyte"}


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__.split("\n\n")[-1].strip())
    quantile = float(sys.argv[3]) if len(sys.argv) > 3 else 0.95
    held_out = sys.argv[4] if len(sys.argv) > 4 else "bccd"
    rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
    for r in rows:
        r["source"] = r["path"].split("/val-by-source/")[1].split("/")[0]
        r["d"] = float(r["distance2"])
    inside = sorted(r["d"] for r in rows if r["source"] != held_out)
    threshold = inside[min(len(inside) - 1, int(quantile * len(inside)))]
    print(f"threshold: the {quantile:.2f} quantile of {len(inside)} validation cells of the "
          f"trained sources: squared distance {threshold:.1f}")
    for source in sorted({r["source"] for r in rows}):
        part = [r for r in rows if r["source"] == source]
        beyond = sum(r["d"] > threshold for r in part)
        wrong = [r for r in part if r["folder"] not in ("wbc",) and r["called"] != r["folder"]
                 and not (r["folder"] == "lymphoblast" and False)]
        print(f"  {source}: {beyond}/{len(part)} beyond ({beyond / len(part):.3f})")

    # BCCD's white cells against their coarse types; the crops are named
    # bccd-IMAGE-OBJECT.png, the labels list each image's white cells in file order
    labels = {}
    for row in csv.DictReader(open(sys.argv[2])):
        labels.setdefault(row["image"], []).append(row["coarse_type"])
    cells = [r for r in rows if r["source"] == "bccd" and r["folder"] == "wbc"]
    by_image = {}
    for r in cells:
        m = re.match(r"bccd-(.+)-(\d+)\.png$", os.path.basename(r["path"]))
        by_image.setdefault(m.group(1), []).append((int(m.group(2)), r))
    n = right = unsure = kept = kept_right = confident_wrong = 0
    wrong_caught = wrong_total = right_set_aside = 0
    for image, found in by_image.items():
        for (_, r), truth in zip(sorted(found, key=lambda t: t[0]), labels.get(image, [])):
            if truth == "unclear":
                continue
            n += 1
            called = COARSE.get(r["called"], r["called"])
            is_right = called == truth
            is_unsure = r["d"] > threshold
            right += is_right
            unsure += is_unsure
            if not is_right:
                wrong_total += 1
                wrong_caught += is_unsure
            elif is_unsure:
                right_set_aside += 1
            if not is_unsure:
                kept += 1
                kept_right += is_right
                if not is_right and float(r["confidence"]) >= 0.9:
                    confident_wrong += 1
    if n:
        print(f"BCCD white cells typed by eye: {n}; coarse type right {right} ({right / n:.3f})")
        print(f"  set aside as unsure: {unsure} ({unsure / n:.3f}); of the {wrong_total} wrong "
              f"calls {wrong_caught} set aside, of the {n - wrong_total} right ones "
              f"{right_set_aside}")
        print(f"  kept: {kept}, right {kept_right} ({kept_right / kept if kept else 0:.3f}); "
              f"wrong at >= 0.9 and kept: {confident_wrong} ({confident_wrong / n:.3f} of all)")


if __name__ == "__main__":
    main()
