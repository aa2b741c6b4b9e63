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
# a patient reference with every HL7 delimiter, a CSV comma, a tab and a non-ASCII letter
PATIENT = "MRN|7^x~y\\z&w,\tÄ"
SIGNER = "Dr. Ana|^~\\&"
NOTICE = "For research use. Verify before clinical decisions."
# the LOINC codes of docs/exchange.md: percentages of the white cells counted
LOINC = {"lymphoblast": "34922-5", "lymphocyte": "26478-8", "neutrophil": "26511-6",
         "monocyte": "26485-3", "eosinophil": "26450-7", "basophil": "30180-4",
         "other": "26471-3"}
ACCESSION = "EXP-1"
# an image path a spreadsheet and every writer must get right: comma, quote, newline
WEIRD = os.path.join(TMP, 'field, "one"\nsecond line.jpg')

from clitest import Cli, check, distinct_copy, failures  # noqa: E402

cli = Cli(CLI, DB)
cli_json = cli.json


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
    # the first sample again under a hostile name, as another picture (a case takes a
    # picture once)
    distinct_copy(samples[0], WEIRD, "weird name")
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
    counts_path = export("counts-csv")
    counts_rows = read_csv(counts_path)
    with open(counts_path, encoding="utf-8", newline="") as f:
        check(cli("export", "--case", ACCESSION, "--format", "counts-csv", "--out", "-").stdout
              == f.read(), "counts-csv: --out - writes the file's text to stdout")
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


def check_hl7(signed):
    try:
        import hl7
    except ImportError:
        return False
    with open(export("hl7"), encoding="utf-8", newline="") as f:
        text = f.read()
    check("\n" not in text and text.endswith("\r"), "hl7: segments end in CR, no LF")
    message = hl7.parse(text)
    names = [str(segment[0]) for segment in message]
    check(names[:3] == ["MSH", "PID", "OBR"] and set(names[3:]) <= {"NTE", "OBX"}
          and names[-1] == "OBX", "hl7: segments %r" % names)
    msh = message.segment("MSH")
    check((str(msh[1]), str(msh[2]), str(msh[3])) == ("|", "^~\\&", "Smearscope"),
          "hl7: MSH-1..3 %r" % str(msh))
    check(str(msh[9]) == "ORU^R01^ORU_R01" and str(msh[11]) == "P" and str(msh[12]) == "2.5.1",
          "hl7: MSH-9, 11, 12")
    check(0 < len(str(msh[10])) <= 20, "hl7: MSH-10 message control id %r" % str(msh[10]))
    pid = message.segment("PID")
    # escaped, the reference holds no delimiter a stricter reader would split on
    raw_pid = [line for line in text.split("\r") if line.startswith("PID|")][0].split("|")
    check(len(raw_pid[3].split("^")) == 5 and not set("&~\t") & set(raw_pid[3]),
          "hl7: PID-3 is not escaped: %r" % raw_pid[3])
    check(message.unescape(str(pid[3][0][0])) == PATIENT,
          "hl7: PID-3 %r does not give back the patient reference" % str(pid[3]))
    obr = message.segment("OBR")
    check(message.unescape(str(obr[3][0][0])) == ACCESSION, "hl7: OBR-3 filler order number")
    check(str(obr[4][0][0]) == "69738-3", "hl7: OBR-4 the differential panel")
    status = "F" if signed else "P"
    check(str(obr[25]) == status, "hl7: OBR-25 %r, expected %s" % (str(obr[25]), status))
    interpreter = message.unescape(str(obr[32])) if len(obr) > 32 else ""
    check(interpreter == (SIGNER if signed else ""), "hl7: OBR-32 %r" % interpreter)
    notes = [message.unescape(str(n[3])) for n in message.segments("NTE")]
    check(NOTICE in notes, "hl7: the research-use NTE %r" % notes)
    expected = cli_json("counts", "--case", ACCESSION, "--json")
    observations = message.segments("OBX")
    counted = [name for name in expected["counts"] if name in LOINC]
    check(len(observations) == len(counted) == len(LOINC), "hl7: %d OBX for %d counted classes"
          % (len(observations), len(counted)))
    for obx, name in zip(observations, counted):
        check(str(obx[2]) == "NM" and str(obx[3][0][0]) == LOINC[name] and str(obx[3][0][2]) == "LN",
              "hl7: OBX for %s: %r" % (name, str(obx[3])))
        percent = 100.0 * expected["counts"][name] / expected["counted"]
        check(abs(float(str(obx[5])) - percent) <= 0.05, "hl7: %s %s%%, counts say %.2f%%"
              % (name, str(obx[5]), percent))
        check(str(obx[6][0][0]) == "%", "hl7: OBX-6 units")
        flag = "H" if name == "lymphoblast" and expected["flag"] else ""
        check((str(obx[8]) if len(obx) > 8 else "") == flag,
              "hl7: OBX-8 of %s %r, expected %r" % (name, str(obx[8]), flag))
        check(str(obx[11]) == status, "hl7: OBX-11 of %s" % name)
    # the flag follows the threshold: none at 100%
    out = os.path.join(TMP, "high-threshold.hl7")
    cli("export", "--case", ACCESSION, "--format", "hl7", "--out", out, "--threshold", "100")
    with open(out, encoding="utf-8", newline="") as f:
        relaxed = hl7.parse(f.read())
    check(all(len(o) <= 8 or str(o[8]) == "" for o in relaxed.segments("OBX")),
          "hl7: no H flag with --threshold 100")
    return True


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
    # HL7 needs a patient to file under and a count to send
    cli("case", "new", "NO-PATIENT")
    run = cli("export", "--case", "NO-PATIENT", "--format", "hl7", "--out", out, ok=False)
    check(run.returncode == 1 and "patient" in run.stderr, "hl7 without a patient: %r" % run.stderr)
    cli("case", "new", "NO-CELLS", "--patient", "MRN-2")
    run = cli("export", "--case", "NO-CELLS", "--format", "hl7", "--out", out, ok=False)
    check(run.returncode == 1 and "no counted white cells" in run.stderr,
          "hl7 without cells: %r" % run.stderr)
    check(not os.path.exists(out), "failed exports leave no file")
    # an image taken as an output's name is never written over: "analyze --json IMG IMG..."
    # makes the first image the JSON's file
    with open(WEIRD, "rb") as f:
        picture = f.read()
    run = cli("analyze", "--json", WEIRD, WEIRD, ok=False)
    check(run.returncode == 1 and "is an image" in run.stderr and "--json" in run.stderr,
          "analyze --json IMAGE: %r" % run.stderr)
    run = cli("analyze", "--csv", WEIRD, WEIRD, ok=False)
    check(run.returncode == 1 and "is an image" in run.stderr, "analyze --csv IMAGE: %r" % run.stderr)
    run = cli("export", "--case", ACCESSION, "--format", "cells-csv", "--out", WEIRD, ok=False)
    check(run.returncode == 1 and "is an image" in run.stderr, "export --out IMAGE: %r" % run.stderr)
    with open(WEIRD, "rb") as f:
        check(f.read() == picture, "the image given as an output is unchanged")


def check_relative_path():
    """A field named relative to the folder analyze ran in is stored by its whole path:
    the window and learn read the store from anywhere."""
    samples = sorted(n for n in os.listdir(SAMPLES) if n.endswith(".jpg"))
    cli("case", "new", "REL-1")
    run = subprocess.run([CLI, "analyze", "--case", "REL-1", "--db", DB, samples[0]],
                         cwd=SAMPLES, capture_output=True, text=True)
    check(run.returncode == 0, "analyze with a relative path: %s" % run.stderr)
    stored = cli_json("case", "show", "REL-1", "--json")["images"][0]["path"]
    check(stored == os.path.join(os.path.abspath(SAMPLES), samples[0]),
          "the relative path %s stored as %s" % (samples[0], stored))


build_case()
check_relative_path()
check_csvs()
check_coco(*check_json())
have_hl7 = check_hl7(signed=False)
cli("signoff", "--case", ACCESSION, "--user", SIGNER)
check_csvs()
check_coco(*check_json())
check_hl7(signed=True)
check_bad_input()
if failures:
    sys.exit("%d checks failed; the files are in %s" % (len(failures), TMP))
shutil.rmtree(TMP)
if not have_hl7:
    print("export: CSV, JSON and COCO checks passed; HL7 skipped: python3-hl7 is missing "
          "(deps/debian-packages.txt)")
    sys.exit(77)
print("export: every check passed")
