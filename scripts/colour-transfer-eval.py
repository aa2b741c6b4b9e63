#!/usr/bin/env python3
"""Does a camera's colour, not its cells, mislead the cell-type model? (issue 27)

Takes BCCD's val white-cell crops (OUT/val/wbc/bccd-*.png of
scripts/build-celltype-set.sh), maps their colours onto PBC's by matching each
channel's mean and standard deviation, pooled over all the BCCD crops (what one camera's
cells look like) and over every 4th PBC val crop (what the model learned), with
ImageMagick, then classifies both the crops as they are and the mapped ones with
`smearscope-cli classify MODEL`, and scores each against the coarse types of
data/labels/bccd-val-coarse.csv. No label of the crops is used for the mapping.

    [TARGET=M,M,M,S,S,S] scripts/colour-transfer-eval.py SET_OUT CLI MODEL...
    (needs ImageMagick's convert; TARGET replaces PBC's colours as the target)
"""
import csv
import glob
import os
import re
import subprocess
import sys
import tempfile

COARSE = {"neutrophil": "granulocyte", "eosinophil": "granulocyte", "basophil": "granulocyte",
          "lymphocyte": "lymphocyte", "lymphoblast": "lymphocyte", "monocyte": "monocyte"}
HERE = os.path.dirname(os.path.abspath(__file__))


def pooled_stats(files):
    """Per-channel mean and standard deviation over all pixels of all files, in [0, 1]."""
    total = [0.0] * 3
    squares = [0.0] * 3
    for f in files:
        out = subprocess.run(["convert", f, "-format",
                              "%[fx:mean.r] %[fx:mean.g] %[fx:mean.b] %[fx:standard_deviation.r] "
                              "%[fx:standard_deviation.g] %[fx:standard_deviation.b]", "info:"],
                             capture_output=True, text=True, check=True).stdout.split()
        v = [float(x) for x in out]
        for c in range(3):
            total[c] += v[c]
            squares[c] += v[3 + c] ** 2 + v[c] ** 2
    n = len(files)
    mean = [total[c] / n for c in range(3)]
    return mean, [(squares[c] / n - mean[c] ** 2) ** 0.5 for c in range(3)]


def score(classified, labels):
    found = {}
    for line in classified.splitlines():
        parts = line.split("\t")
        m = re.match(r"bccd-(.+)-(\d+)\.png$", os.path.basename(parts[0]))
        if len(parts) >= 3 and m:
            found.setdefault(m.group(1), []).append((int(m.group(2)), parts[1], float(parts[2])))
    n = right = confident_wrong = 0
    for image, cells in found.items():
        for (_, cls, confidence), truth in zip(sorted(cells), labels.get(image, [])):
            if truth == "unclear":
                continue
            n += 1
            called = COARSE.get(cls, cls)
            right += called == truth
            confident_wrong += called != truth and confidence >= 0.9
    return n, right, confident_wrong


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.split("\n\n")[-1].strip())
    out, cli, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    labels = {}
    with open(os.path.join(HERE, "..", "data", "labels", "bccd-val-coarse.csv")) as f:
        for row in csv.DictReader(f):
            labels.setdefault(row["image"], []).append(row["coarse_type"])
    bccd = sorted(glob.glob(os.path.join(out, "val", "wbc", "bccd-*.png")))
    pbc = sorted(glob.glob(os.path.join(out, "val-by-source", "pbc", "*", "*")))[::4]
    mean_b, std_b = pooled_stats(bccd)
    mean_p, std_p = pooled_stats(pbc)
    if os.environ.get("TARGET"):
        # another target, such as the colours a model's cameras were brought to
        t = [float(x) for x in os.environ["TARGET"].split(",")]
        mean_p, std_p = t[:3], t[3:]
    print(f"BCCD crops ({len(bccd)}): mean {[round(x, 3) for x in mean_b]}, "
          f"sd {[round(x, 3) for x in std_b]}")
    print(f"PBC crops ({len(pbc)}): mean {[round(x, 3) for x in mean_p]}, "
          f"sd {[round(x, 3) for x in std_p]}")
    with tempfile.TemporaryDirectory() as mapped:
        for f in bccd:
            args = ["convert", f]
            for c, channel in enumerate("RGB"):
                args += ["-channel", channel,
                         "-fx", f"(u-{mean_b[c]})*{std_p[c] / std_b[c]}+{mean_p[c]}"]
            subprocess.run(args + ["+channel", os.path.join(mapped, os.path.basename(f))],
                           check=True)
        for model in models:
            for name, files in (("as taken", bccd),
                                ("colours mapped", sorted(glob.glob(os.path.join(mapped, "*"))))):
                run = subprocess.run([cli, "classify", model] + files, capture_output=True,
                                     text=True, check=True)
                n, right, wrong = score(run.stdout, labels)
                print(f"{model}, {name}: coarse type right {right}/{n}, "
                      f"wrong at >= 0.9 {wrong}/{n}")


if __name__ == "__main__":
    main()
