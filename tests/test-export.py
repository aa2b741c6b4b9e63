#!/usr/bin/python3
"""smearscope-cli export (issue 28): a case built with the CLI from the sample fields,
corrected and signed, exported to every format and read back with Python's own readers.
Every expectation comes from the CLI's other commands (case show --json, counts --json)
or from the files themselves, never from numbers written here.

    test-export.py CLI SAMPLES_DIR
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

CLI, SAMPLES = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="ss-export-")
DB = os.path.join(TMP, "cases.db")
# a patient reference with every HL7 delimiter, a CSV comma and a non-ASCII letter
PATIENT = "MRN|7^x~y\\z&w, Ä"
ACCESSION = "EXP-1"
# an image path a spreadsheet and every writer must get right: comma, quote, newline
WEIRD = os.path.join(TMP, 'field, "one"\nsecond line.jpg')

failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def cli(*args, ok=True):
    run = subprocess.run([CLI, *args, "--db", DB], capture_output=True, text=True)
    if ok and run.returncode != 0:
        sys.exit("smearscope-cli %s failed (%d): %s" % (" ".join(args), run.returncode, run.stderr))
    return run


def cli_json(*args):
    return json.loads(cli(*args).stdout)


def export(fmt, out=None):
    out = out or os.path.join(TMP, "export." + fmt)
    run = cli("export", "--case", ACCESSION, "--format", fmt, "--out", out)
    check(os.path.exists(out), "export %s wrote %s" % (fmt, out))
    return out


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def build_case():
    samples = sorted(os.path.join(SAMPLES, n) for n in os.listdir(SAMPLES) if n.endswith(".jpg"))
    if not samples:
        print("no sample fields in", SAMPLES)
        sys.exit(77)
    shutil.copyfile(samples[0], WEIRD)
    cli("case", "new", ACCESSION, "--patient", PATIENT, "--specimen", "peripheral blood",
        "--stain", "Wright-Giemsa")
    # a low minimum confidence and a small cell size find several cells of every field,
    # some of them not_a_cell: enough to relabel, delete and count
    cli("analyze", "--case", ACCESSION, "--min-confidence", "0.05", "--cell-diameter", "60",
        "--json", os.path.join(TMP, "analysis.json"), *samples, WEIRD)
    shown = cli_json("case", "show", ACCESSION, "--json")
    cells = [c for image in shown["images"] for c in image["cells"]]
    if len(cells) < 4:
        sys.exit("the analysis found only %d cells; the test needs 4" % len(cells))
    counted = [c for c in cells if c["class"] != "not_a_cell"]
    others = [c for c in cells if c["class"] == "not_a_cell"]
    # a blast or two, a deleted cell, a not_a_cell made a neutrophil
    cli("relabel", "--case", ACCESSION, "--cell", str(counted[0]["id"]), "--class", "lymphoblast",
        "--user", "tech one")
    if len(counted) > 2:
        cli("relabel", "--case", ACCESSION, "--cell", str(counted[1]["id"]), "--class", "1",
            "--user", "tech one")
    cli("relabel", "--case", ACCESSION, "--cell", str(counted[-1]["id"]), "--delete",
        "--user", "tech one")
    if others:
        cli("relabel", "--case", ACCESSION, "--cell", str(others[0]["id"]), "--class", "neutrophil",
            "--user", "tech one")


def shown_case():
    return cli_json("case", "show", ACCESSION, "--json", "--deleted")


def check_csvs():
    shown = shown_case()
    images = shown["images"]
    counts_rows = read_csv(export("counts-csv"))
    header = counts_rows[0]
    check(len(counts_rows) == 1 + len(images),
          "counts-csv: %d rows for %d images" % (len(counts_rows) - 1, len(images)))
    for row in counts_rows:
        check(len(row) == len(header), "counts-csv: %d fields in a row of a %d-column file: %r"
              % (len(row), len(header), row))
    classes = list(shown["counts"].keys())
    check(header[1:1 + len(classes)] == classes, "counts-csv: the class columns %r" % header)
    for image, row in zip(images, counts_rows[1:]):
        record = dict(zip(header, row))
        check(record["image"] == image["path"], "counts-csv: path %r, expected %r"
              % (record["image"], image["path"]))
        expected = cli_json("counts", "--case", ACCESSION, "--image", str(image["id"]), "--json")
        for name in classes:
            check(int(record[name]) == expected["counts"][name], "counts-csv: %s of image %d"
                  % (name, image["id"]))
        check(int(record["total_counted"]) == expected["counted"], "counts-csv: counted")
        check(record["flag"] == ("true" if expected["flag"] else "false"), "counts-csv: flag")
    check(WEIRD in [r[0] for r in counts_rows[1:]], "counts-csv: the path with , \" and a newline")

    cells_rows = read_csv(export("cells-csv"))
    header = cells_rows[0]
    cells = {c["id"]: (image, c) for image in images for c in image["cells"]}
    check(len(cells_rows) == 1 + len(cells),
          "cells-csv: %d rows for %d cells" % (len(cells_rows) - 1, len(cells)))
    per_image = {}
    for row in cells_rows:
        check(len(row) == len(header), "cells-csv: %d fields in a row of a %d-column file: %r"
              % (len(row), len(header), row))
    for row in cells_rows[1:]:
        record = dict(zip(header, row))
        image, cell = cells[int(record["cell_id"])]
        check(record["image"] == image["path"] and int(record["image_id"]) == image["id"],
              "cells-csv: image of cell %s" % record["cell_id"])
        box = [int(record[k]) for k in ("x", "y", "width", "height")]
        check(box == [cell["box"][k] for k in ("x", "y", "width", "height")],
              "cells-csv: box of cell %s" % record["cell_id"])
        check(record["class"] == cell["class"] and record["predicted_class"] == cell["predicted_class"],
              "cells-csv: classes of cell %s" % record["cell_id"])
        check(record["deleted"] == str(cell["deleted"]).lower(), "cells-csv: deleted")
        check(record["reviewed"] == str(cell["reviewed"]).lower(), "cells-csv: reviewed")
        check(record["corrected"] == str(cell["class"] != cell["predicted_class"]).lower(),
              "cells-csv: corrected")
        check(abs(float(record["confidence"]) - cell["confidence"]) < 1e-4, "cells-csv: confidence")
        check(float(record["area"]) > 0 and float(record["nucleus_area"]) >= 0, "cells-csv: areas")
        if record["deleted"] == "false":
            counts = per_image.setdefault(int(record["image_id"]), {})
            counts[record["class"]] = counts.get(record["class"], 0) + 1
    # the counts of one file are the cells of the other
    for image, row in zip(images, counts_rows[1:]):
        record = dict(zip(counts_rows[0], row))
        for name in classes:
            check(per_image.get(image["id"], {}).get(name, 0) == int(record[name]),
                  "counts-csv and cells-csv disagree on %s of image %d" % (name, image["id"]))
    check(sum(r[cells_rows[0].index("deleted")] == "true" for r in cells_rows[1:]) >= 1,
          "cells-csv: the deleted cell is listed")


def decode_runs(runs, n_pixels):
    """The set pixel numbers of an RLE whose first run is background."""
    pixels, at, value = [], 0, 0
    for run in runs:
        if value:
            pixels.extend(range(at, at + run))
        at += run
        value = 1 - value
    check(at == n_pixels, "RLE runs sum to %d, expected %d pixels" % (at, n_pixels))
    return pixels


def check_json():
    path = export("json")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    exported = json.loads(text)
    # one line per mask, not one per number: no line of the file is a bare number
    bare = [line for line in text.splitlines() if line.strip().rstrip(",").isdigit()]
    check(not bare, "json: %d lines hold one number each" % len(bare))
    # case show --json --deleted is the same code: everything it says, the export says
    shown = shown_case()
    for key, value in shown.items():
        if key != "images":
            check(exported.get(key) == value, "json: %s differs from case show --json" % key)
    check(len(exported["images"]) == len(shown["images"]), "json: the images")
    masks = {}
    for image, shown_image in zip(exported["images"], shown["images"]):
        for key, value in shown_image.items():
            if key != "cells":
                check(image.get(key) == value, "json: image %s differs" % key)
        check(len(image["cells"]) == len(shown_image["cells"]), "json: the cells of an image")
        for cell, shown_cell in zip(image["cells"], shown_image["cells"]):
            for key, value in shown_cell.items():
                check(cell.get(key) == value, "json: cell %d: %s differs" % (cell["id"], key))
            for name in ("mask", "nucleus_mask"):
                mask = cell[name]
                check(mask["order"] == "row-major" and isinstance(mask["runs"], str),
                      "json: cell %d: %s is a row-major RLE string" % (cell["id"], name))
                runs = [int(r) for r in mask["runs"].split()]
                decoded = decode_runs(runs, mask["width"] * mask["height"])
                if name == "mask":
                    check(mask["width"] == cell["box"]["width"]
                          and mask["height"] == cell["box"]["height"],
                          "json: cell %d: the mask covers its box" % cell["id"])
                    masks[cell["id"]] = {(cell["box"]["x"] + p % mask["width"],
                                          cell["box"]["y"] + p // mask["width"]) for p in decoded}
            check(set(cell["probabilities"]) == set(shown["counts"]), "json: probabilities")
            check(cell["morphometrics"]["area"] > 0, "json: morphometrics")
    history = cli_json("case", "history", ACCESSION, "--json")
    check(exported["corrections"] == history["corrections"],
          "json: corrections differ from case history --json")
    check(len(exported["corrections"]) >= 2, "json: the corrections are there")
    models = {(i["model"], i["model_version"], i["model_checksum"]) for i in exported["images"]}
    check({(m["name"], m["version"], m["checksum"]) for m in exported["models"]} == models,
          "json: models %r" % exported["models"])
    return exported, masks


def check_coco(exported, masks):
    with open(export("coco"), encoding="utf-8") as f:
        coco = json.load(f)
    images = {i["id"]: i for i in exported["images"]}
    check([(i["id"], i["file_name"], i["width"], i["height"]) for i in coco["images"]]
          == [(i["id"], i["path"], i["width"], i["height"]) for i in exported["images"]],
          "coco: images")
    classes = list(exported["counts"].keys())
    check([(c["id"], c["name"]) for c in coco["categories"]]
          == [(k + 1, name) for k, name in enumerate(classes)], "coco: categories")
    names = {c["id"]: c["name"] for c in coco["categories"]}
    cells = {c["id"]: c for i in exported["images"] for c in i["cells"] if not c["deleted"]}
    check(sorted(a["id"] for a in coco["annotations"]) == sorted(cells),
          "coco: one annotation per cell not deleted")
    ids = [a["id"] for a in coco["annotations"]]
    check(len(ids) == len(set(ids)), "coco: annotation ids unique")
    counted = {}
    for a in coco["annotations"]:
        cell = cells.get(a["id"])
        if cell is None:
            continue
        image = images[a["image_id"]]
        check(cell in image["cells"], "coco: annotation %d on its cell's image" % a["id"])
        check(names[a["category_id"]] == cell["class"], "coco: category of %d" % a["id"])
        box = cell["box"]
        check(a["bbox"] == [box["x"], box["y"], box["width"], box["height"]], "coco: bbox")
        check(a["iscrowd"] == 0 and abs(a["score"] - cell["confidence"]) < 1e-4, "coco: iscrowd, score")
        seg = a["segmentation"]
        h, w = image["height"], image["width"]
        check(seg["size"] == [h, w], "coco: size is [height, width]")
        # COCO's RLE is column-major: pixel number p is x = p // h, y = p % h
        pixels = {(p // h, p % h) for p in decode_runs(seg["counts"], h * w)}
        check(len(pixels) == a["area"], "coco: annotation %d: %d pixels decoded, area %d"
              % (a["id"], len(pixels), a["area"]))
        check(pixels == masks[a["id"]], "coco: annotation %d is not the cell's mask" % a["id"])
        check(all(box["x"] <= x < box["x"] + box["width"] and box["y"] <= y < box["y"] + box["height"]
                  for x, y in pixels), "coco: annotation %d inside its bbox" % a["id"])
        counted[cell["class"]] = counted.get(cell["class"], 0) + 1
    case_counts = cli_json("counts", "--case", ACCESSION, "--json")["counts"]
    check(all(counted.get(name, 0) == n for name, n in case_counts.items()),
          "coco: annotations per category %r, counts %r" % (counted, case_counts))


def check_bad_input():
    out = os.path.join(TMP, "never.csv")
    run = cli("export", "--case", "NO-SUCH", "--format", "counts-csv", "--out", out, ok=False)
    check(run.returncode == 1 and "NO-SUCH" in run.stderr, "unknown case: %r" % run.stderr)
    check(not os.path.exists(out), "unknown case: no file")
    run = cli("export", "--case", ACCESSION, "--format", "xlsx", "--out", out, ok=False)
    check(run.returncode == 2 and "xlsx" in run.stderr and "counts-csv" in run.stderr,
          "unknown format: %r" % run.stderr)
    bad = os.path.join(TMP, "no-such-folder", "x.csv")
    run = cli("export", "--case", ACCESSION, "--format", "cells-csv", "--out", bad, ok=False)
    check(run.returncode == 1 and bad in run.stderr, "unwritable --out: %r" % run.stderr)
    run = cli("export", "--case", ACCESSION, "--format", "cells-csv", ok=False)
    check(run.returncode == 2 and "--out" in run.stderr, "missing --out: %r" % run.stderr)


build_case()
check_csvs()
check_coco(*check_json())
check_bad_input()
shutil.rmtree(TMP)
if failures:
    sys.exit("%d checks failed; the files are in %s" % (len(failures), TMP))
print("export: every check passed")
