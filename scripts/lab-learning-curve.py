#!/usr/bin/env python3
"""A lab whose microscope the model knows badly, simulated with the CLI (issue 30).

Builds a case store from one wbc-seg data set's training pictures (even ids), as a lab
would: `case new`, `analyze --case`, then, picture by picture, the technician's
correction of the picture's own cell (the one nearest its centre) to its label with
`relabel` (a confirmation when the model was right). After the first N corrections
(for each N given) it runs `learn --db ... --case LAB` behind its guard and scores the
offered model (or the model itself when nothing was offered) on the data set's val
pictures, never corrected, with `evaluate --field-cells 1 --pick centre`, and on PBC val.

    scripts/lab-learning-curve.py CLI MODEL DATASET_DIR REPLAY REFERENCE WORK N... [-- LEARN_ARGS]

DATASET_DIR is e.g. ../shared/datasets/wbc-seg/dataset2 (images/, labels.csv); REPLAY and
REFERENCE are class folders of crops (learn --replay, --reference); WORK a scratch
folder. Prints one line per N.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys


def run(cmd, ok=(0,)):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in ok:
        sys.exit("failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return p


def accuracy(cli, model, data):
    out = run([cli, "evaluate", "--task", "classify", "--model", model, "--data", data,
               "--field-cells", "1", "--pick", "centre"]).stdout
    m = re.search(r"^accuracy (\S+)", out, re.M)
    return float(m.group(1))


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        extra = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    if len(args) < 7:
        sys.exit(__doc__.split("\n\n")[-2].strip())
    cli, model, dataset, replay, reference, work = args[:6]
    steps = [int(n) for n in args[6:]]
    labels = {r["id"]: r["class"] for r in csv.DictReader(open(os.path.join(dataset, "labels.csv")))}
    shared = os.path.dirname(os.path.dirname(os.path.abspath(dataset)))
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    # the val pictures as class folders, for evaluate
    val = os.path.join(work, "val")
    for i, cls in sorted(labels.items()):
        if int(i) % 2 == 1:
            os.makedirs(os.path.join(val, cls), exist_ok=True)
            os.symlink(os.path.join(dataset, "images", i + ".png"), os.path.join(val, cls, i + ".png"))
    train = sorted(i for i in labels if int(i) % 2 == 0)
    db = os.path.join(work, "lab.db")
    env_db = ["--db", db]
    run([cli, "case", "new", "LAB"] + env_db)
    run([cli, "analyze", "--case", "LAB"] + env_db + [os.path.join(dataset, "images", i + ".png") for i in train])
    case = json.loads(run([cli, "case", "show", "LAB", "--json"] + env_db).stdout)
    pbc_val = os.path.join(shared, "pbc", "val")
    print("corrections\toffered\tlab held-back (model -> candidate)\tval pictures\tPBC val")
    print("0\t-\t-\t%.4f\t%.4f" % (accuracy(cli, model, val), accuracy(cli, model, pbc_val)), flush=True)
    done = 0
    images = case["images"]
    for n in steps:
        while done < min(n, len(images)):
            image = images[done]
            pid = os.path.splitext(os.path.basename(image["path"]))[0]
            cells = [c for c in image["cells"] if not c["deleted"]]
            if cells:
                cx, cy = image["width"] / 2, image["height"] / 2
                cell = min(cells, key=lambda c: (c["box"]["x"] + c["box"]["width"] / 2 - cx) ** 2
                           + (c["box"]["y"] + c["box"]["height"] / 2 - cy) ** 2)
                # the model's call confirmed when right, corrected when wrong
                action = (["--confirm"] if cell["class"] == labels[pid]
                          else ["--class", labels[pid]])
                run([cli, "relabel", "--case", "LAB", "--cell", str(cell["id"]), "--user", "tech"]
                    + action + env_db)
            done += 1
        out_model = os.path.join(work, "learned-%d.ssm" % n)
        p = run([cli, "learn", "--model", model, "--case", "LAB", "--replay", replay,
                 "--reference", reference, "--out", out_model] + env_db + extra, ok=(0, 1, 3))
        held = re.search(r"held-back cells: model (\S+), candidate (\S+)", p.stdout)
        offered = p.returncode == 0
        used = out_model if offered else model
        print("%d\t%s\t%s\t%.4f\t%.4f" % (
            done, "yes" if offered else ("no" if p.returncode == 3 else "too few"),
            "%s -> %s" % held.groups() if held else "-",
            accuracy(cli, used, val), accuracy(cli, used, pbc_val)), flush=True)


if __name__ == "__main__":
    main()
