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
check_bad_input()
shutil.rmtree(TMP)
if failures:
    sys.exit("%d checks failed; the files are in %s" % (len(failures), TMP))
print("export: every check passed")
