#!/usr/bin/python3
"""smearscope-cli import (issue 28, In): annotations of other tools as ground truth.

1. A case analysed from the sample fields and corrected, exported as COCO, imported
   into a second case of the same images: the truth cells have the cells' boxes,
   classes as corrected and mask pixel counts; counts do not change; db check passes.
2. A CVAT-style COCO (float boxes, polygons, WBC, RBC, iscrowd) gives the classes,
   untyped cells and rasterised polygon areas expected.
3. Hostile files, VOC and COCO, each refused with its message naming the file and the
   place, a non-zero exit, and the store unchanged (case show --json and sqlite3's
   .dump compared before and after).
4. --add-images adds the images a case lacks, without analysis, or none when a file
   fails.

    test-import.py CLI SAMPLES_DIR
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

CLI, SAMPLES = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="ss-import-")
DB = os.path.join(TMP, "cases.db")

from clitest import Cli, check, failures  # noqa: E402

cli = Cli(CLI, DB)
cli_json = cli.json


def mask_area(mask):
    """Pixels set in the row-major RLE the case JSON writes (odd runs are foreground)."""
    if mask is None:
        return 0
    runs = [int(r) for r in mask["runs"].split()]
    return sum(runs[1::2])


def dump():
    """The whole store as SQL text, and each case as case show --json prints it."""
    db = sqlite3.connect(DB)
    text = "\n".join(db.iterdump())
    db.close()
    shown = [cli("case", "show", a, "--json").stdout for a in ("ORIG", "COPY", "SIGNED")]
    return text, shown


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


samples = sorted(os.path.join(SAMPLES, n) for n in os.listdir(SAMPLES) if n.endswith(".jpg"))
names = [os.path.basename(s) for s in samples]
copies = os.path.join(TMP, "copies")
os.mkdir(copies)
for s in samples:
    shutil.copy(s, copies)

# 1. round trip through the export ----------------------------------------------------
cli("case", "new", "ORIG")
cli("analyze", "--case", "ORIG", *samples)
orig = cli_json("export", "--case", "ORIG", "--format", "json", "--out", "-")
cells = [c for im in orig["images"] for c in im["cells"]]
check(len(cells) >= 2, "the samples give cells to correct")
cli("relabel", "--case", "ORIG", "--cell", str(cells[0]["id"]), "--class", "monocyte", "--user", "t")
cli("relabel", "--case", "ORIG", "--cell", str(cells[-1]["id"]), "--class", "lymphoblast", "--user", "t")
coco_path = os.path.join(TMP, "orig.coco.json")
cli("export", "--case", "ORIG", "--format", "coco", "--out", coco_path)
orig = cli_json("export", "--case", "ORIG", "--format", "json", "--out", "-")

cli("case", "new", "COPY")
cli("analyze", "--case", "COPY", *[os.path.join(copies, n) for n in names])
counts_before = cli("counts", "--case", "COPY", "--json").stdout
run = cli("import", "--case", "COPY", "--format", "coco", "--user", "importer", coco_path)
print(run.stdout, end="")
copy = cli_json("export", "--case", "COPY", "--format", "json", "--out", "-")
check(cli("counts", "--case", "COPY", "--json").stdout == counts_before,
      "round trip: counts unchanged by the import")
for orig_image, copy_image in zip(orig["images"], copy["images"]):
    want = sorted((c["box"]["x"], c["box"]["y"], c["box"]["width"], c["box"]["height"],
                   c["class"], mask_area(c["mask"]))
                  for c in orig_image["cells"] if not c["deleted"])
    got = sorted((t["box"]["x"], t["box"]["y"], t["box"]["width"], t["box"]["height"],
                  t["class"], mask_area(t["mask"])) for t in copy_image["truth"])
    check(want == got, "round trip: %s truth %s == cells %s"
          % (os.path.basename(copy_image["path"]), got, want))
    check(all(t["source"]["format"] == "coco" and t["source"]["file"] == "orig.coco.json"
              and t["user"] == "importer" for t in copy_image["truth"]),
          "round trip: source and user recorded")
    check(orig_image["truth"] == [], "round trip: the original case has no truth")
check(any(t["class"] == "monocyte" for im in copy["images"] for t in im["truth"]),
      "round trip: the corrected class came back")
shown = cli_json("case", "show", "COPY", "--json")
check(all(len(im["truth"]) > 0 for im in shown["images"]), "case show --json lists truth")
check(cli("db", "check").returncode == 0, "db check after the import")
again = cli("import", "--case", "COPY", "--format", "coco", coco_path, ok=False)
check(again.returncode == 1 and "imported for image" in again.stderr,
      "the same file twice is refused: " + again.stderr)

# 2. a CVAT-style COCO ----------------------------------------------------------------
cvat = {
    "licenses": [], "info": {},
    "categories": [{"id": 1, "name": "WBC"}, {"id": 2, "name": "RBC"},
                   {"id": 3, "name": "Neutrophil"}, {"id": 4, "name": "unused label"}],
    "images": [{"id": 7, "file_name": "frames/" + names[0], "width": 640, "height": 480}],
    "annotations": [
        {"id": 1, "image_id": 7, "category_id": 3, "iscrowd": 0, "area": 800.0,
         "bbox": [10.2, 10.0, 39.9, 20.0],
         "segmentation": [[10.0, 10.0, 50.0, 10.0, 50.0, 30.0, 10.0, 30.0]]},
        {"id": 2, "image_id": 7, "category_id": 1, "iscrowd": 0, "bbox": [100, 100, 60, 60],
         "segmentation": [[100, 100, 160, 100, 100, 160], [150, 150, 160, 150, 160, 160, 150, 160]]},
        {"id": 3, "image_id": 7, "category_id": 2, "iscrowd": 0, "bbox": [0, 0, 5, 5],
         "segmentation": []},
        {"id": 4, "image_id": 7, "category_id": 1, "iscrowd": 1, "bbox": [0, 0, 5, 5],
         "segmentation": {"size": [480, 640], "counts": "abc"}},
    ],
}
cvat_path = write("cvat.json", json.dumps(cvat))
cli("case", "new", "CVAT")
cli("analyze", "--case", "CVAT", samples[0])
run = cli("import", "--case", "CVAT", "--format", "coco", cvat_path)
check("RBC 1" in run.stdout and "1 crowd" in run.stdout, "cvat: summary counts what was left out: "
      + run.stdout)
truth = cli_json("export", "--case", "CVAT", "--format", "json", "--out", "-")["images"][0]["truth"]
got = sorted((t["class"] or "", t["box"]["width"], t["box"]["height"], mask_area(t["mask"]))
             for t in truth)
# the rectangle: 40 x 20 pixel centres; the triangle's 60 x 60 half without its
# diagonal (1770 centres strictly inside, none on it) and the 10 x 10 square
check(got == [("", 60, 60, 1770 + 100), ("neutrophil", 40, 20, 800)], "cvat: truth %s" % got)

# 3. hostile files: refused, named, nothing stored ------------------------------------
cli("case", "new", "SIGNED")
cli("analyze", "--case", "SIGNED", samples[0])
cli("signoff", "--case", "SIGNED", "--user", "dr. s")

VOC_HEAD = ("<annotation><filename>%s</filename><size><width>640</width><height>480</height>"
            "<depth>3</depth></size>\n" % names[0])


def voc(objects, head=VOC_HEAD):
    return head + "".join(
        "<object>\n<name>%s</name><bndbox><xmin>%s</xmin><ymin>%s</ymin><xmax>%s</xmax>"
        "<ymax>%s</ymax></bndbox>\n</object>\n" % o for o in objects) + "</annotation>\n"


GOOD_VOC = voc([("WBC", 10, 10, 100, 100)])


def coco(annotations=None, images=None, categories=None, **extra):
    doc = {"images": images if images is not None else
           [{"id": 1, "file_name": names[0], "width": 640, "height": 480}],
           "categories": categories if categories is not None else [{"id": 1, "name": "WBC"}],
           "annotations": annotations if annotations is not None else
           [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50]}]}
    doc.update(extra)
    return json.dumps(doc)


def annotation(**fields):
    a = {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 10, 50, 50]}
    a.update(fields)
    return a


many_objects = voc([("WBC", 1, 1, 5, 5)] * 100001)
many_annotations = coco([annotation(id=i) for i in range(100001)])
many_values = coco()[:-1] + ', "extra": [' + ",".join(["0"] * 8000001) + "]}"
# each 1e8 box pixels and 1e8 row and point visits: the third is past 5e8
square_of_points = [v for i in range(2500) for v in (i * 4, 0)] + \
    [v for i in range(2500) for v in (10000, i * 4)] + \
    [v for i in range(2500) for v in (10000 - i * 4, 10000)] + \
    [v for i in range(2500) for v in (0, 10000 - i * 4)]
big_masks = coco([annotation(id=i, bbox=[0, 0, 10000, 10000], segmentation=[square_of_points])
                   for i in range(3)],
                  images=[{"id": 1, "file_name": names[0], "width": 10000, "height": 10000}])
deep = coco()[:-1] + ', "extra": ' + "[" * 100000 + "]" * 100000 + "}"

hostile = [
    # (what, format, file name, text, case, expected in the message)
    ("voc: entity from a DTD", "voc", "entity.xml",
     '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY lol "lollollol">]>\n'
     + VOC_HEAD.replace(names[0], "&lol;") + "</annotation>", "COPY", "entity.xml"),
    ("voc: external entity", "voc", "xxe.xml",
     '<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
     + VOC_HEAD.replace(names[0], "&xxe;") + "</annotation>", "COPY", "xxe.xml"),
    ("voc: NaN", "voc", "nan.xml", voc([("WBC", "nan", 10, 100, 100)]), "COPY", "line 3: <xmin>"),
    ("voc: Infinity", "voc", "inf.xml", voc([("WBC", 10, "Infinity", 100, 100)]), "COPY",
     "line 3: <ymin>"),
    ("voc: huge", "voc", "huge.xml", voc([("WBC", 10, 10, "1e300", 100)]), "COPY", "<xmax>"),
    ("voc: wrong type", "voc", "word.xml", voc([("WBC", 10, 10, "wide", 100)]), "COPY", "'wide'"),
    ("voc: negative", "voc", "negative.xml", voc([("WBC", -5, 10, 100, 100)]), "COPY",
     "leaves the 640 x 480 image"),
    ("voc: outside", "voc", "outside.xml", voc([("WBC", 600, 10, 700, 100)]), "COPY",
     "line 3: the WBC box (600,10)-(700,100) leaves"),
    ("voc: empty box", "voc", "empty.xml", voc([("WBC", 10, 10, 10, 100)]), "COPY", "is empty"),
    ("voc: unknown label", "voc", "label.xml", voc([("Neutrofil", 10, 10, 100, 100)]), "COPY",
     "<name>Neutrofil</name>"),
    ("voc: truncated", "voc", "truncated.xml", GOOD_VOC[:len(GOOD_VOC) // 2], "COPY",
     "truncated.xml: not a Pascal VOC annotation"),
    ("voc: image not in the case", "voc", "other.xml",
     voc([("WBC", 10, 10, 100, 100)], VOC_HEAD.replace(names[0], "BloodImage_99999.jpg")), "COPY",
     "has no image named BloodImage_99999.jpg"),
    ("voc: too many objects", "voc", "many.xml", many_objects, "COPY", "more than 100000"),
    ("voc: signed case", "voc", "signed.xml", GOOD_VOC, "SIGNED", "signed"),
    ("coco: not an object", "coco", "array.json", "[1, 2]", "COPY", "the top level: is an array"),
    ("coco: wrong type", "coco", "type.json", coco([annotation(bbox="10,10,50,50")]), "COPY",
     "annotations[0].bbox: is a string"),
    ("coco: width a string", "coco", "width.json",
     coco(images=[{"id": 1, "file_name": names[0], "width": "640", "height": 480}]), "COPY",
     "images[0].width: is a string"),
    ("coco: wrong type in a box left out", "coco", "rbctype.json",
     coco([annotation(bbox=[10, "ten", 50, 50])], categories=[{"id": 1, "name": "RBC"}]), "COPY",
     "annotations[0].bbox[1]: is a string"),
    ("coco: two images of one name", "coco", "twice.json",
     coco(images=[{"id": 1, "file_name": names[0], "width": 640, "height": 480},
                  {"id": 2, "file_name": "x/" + names[0], "width": 640, "height": 480}]), "COPY",
     "images[1].file_name: %s is images[0]'s file name too" % names[0]),
    ("coco: huge", "coco", "huge.json", coco([annotation(bbox=[10, 10, 1e300, 50])]), "COPY",
     "annotations[0].bbox[2]"),
    ("coco: huge integer", "coco", "bigint.json",
     coco(images=[{"id": 1, "file_name": names[0], "width": 10 ** 15, "height": 480}]), "COPY",
     "images[0].width"),
    ("coco: negative", "coco", "negative.json", coco([annotation(bbox=[-20, 10, 50, 50])]), "COPY",
     "annotations[0].bbox: [-20, 10, 50, 50] leaves the 640 x 480 image"),
    ("coco: outside", "coco", "outside.json", coco([annotation(bbox=[620, 10, 50, 50])]), "COPY",
     "leaves the 640 x 480 image"),
    ("coco: NaN", "coco", "nan.json", coco().replace("[10, 10, 50, 50]", "[NaN, 10, 50, 50]"),
     "COPY", "nan.json: not JSON"),
    ("coco: Infinity", "coco", "inf.json",
     coco().replace("[10, 10, 50, 50]", "[Infinity, 10, 50, 50]"), "COPY", "inf.json: not JSON"),
    ("coco: deep nesting", "coco", "deep.json", deep, "COPY", "nested more than 32 deep"),
    ("coco: too many annotations", "coco", "many.json", many_annotations, "COPY",
     "more than 100000"),
    ("coco: too many values", "coco", "values.json", many_values, "COPY",
     "more than 8000000 JSON values"),
    ("coco: masks past the work budget", "coco", "masks.json", big_masks, "COPY",
     "annotations[2].segmentation: the file's masks need more than 5e+08"),
    ("coco: over 64 MiB", "coco", "huge-file.json", coco() + " " * (64 * 1024 * 1024), "COPY",
     "more than the 64 MiB"),
    ("coco: truncated", "coco", "truncated.json", coco()[:-30], "COPY", "truncated.json: not JSON"),
    ("coco: unknown category", "coco", "label.json",
     coco(categories=[{"id": 1, "name": "smudge"}]), "COPY", "category 'smudge'"),
    ("coco: unknown image id", "coco", "imageid.json", coco([annotation(image_id=5)]), "COPY",
     "annotations[0].image_id: there is no image with id 5"),
    ("coco: RLE not adding up", "coco", "rle.json",
     coco([annotation(segmentation={"size": [480, 640], "counts": [10, 20]})]), "COPY",
     "annotations[0].segmentation.counts: the runs do not add up"),
    ("coco: RLE of another size", "coco", "rlesize.json",
     coco([annotation(segmentation={"size": [48, 64], "counts": [3072]})]), "COPY",
     "segmentation.size"),
    ("coco: compressed RLE", "coco", "compressed.json",
     coco([annotation(segmentation={"size": [480, 640], "counts": "PPY3"})]), "COPY",
     "compressed RLE"),
    ("coco: bad polygon", "coco", "polygon.json",
     coco([annotation(segmentation=[[10, 10, 20]])]), "COPY", "polygon 0 has 3 numbers"),
    ("coco: image of another size", "coco", "size.json",
     coco(images=[{"id": 1, "file_name": names[0], "width": 1280, "height": 960}],
          annotations=[annotation(bbox=[700, 500, 50, 50])]), "COPY", "1280 x 960"),
]
before = dump()
for what, fmt, name, text, case, expected in hostile:
    path = write(name, text)
    good = write("good." + ("xml" if fmt == "voc" else "json"), GOOD_VOC if fmt == "voc" else coco())
    # the good file first: a bad one after it must take it down too
    run = cli("import", "--case", case, "--format", fmt, good, path, ok=False)
    message = run.stderr.strip().replace("\n", " | ")
    print("%-28s exit %d: %s" % (what, run.returncode, message[:200]))
    check(run.returncode != 0, what + ": refused")
    check(expected in run.stderr, "%s: message names %r: %s" % (what, expected, run.stderr))
    check(name in run.stderr or case == "SIGNED", what + ": message names the file")
    check("nothing was imported" in run.stderr, what + ": says nothing was imported")
    after = dump()
    check(after == before, what + ": store unchanged")
check(cli("db", "check").returncode == 0, "db check after the refusals")

# 4. --add-images: the images a case lacks, added without analysis, all or nothing ----
cli("case", "new", "ADD")
bad = write("bad-second.xml", voc([("WBC", 600, 10, 700, 100)]))
good = write("add.xml", GOOD_VOC)
run = cli("import", "--case", "ADD", "--format", "voc", "--add-images", copies, good, bad, ok=False)
check(run.returncode == 1 and cli_json("case", "show", "ADD", "--json")["n_images"] == 0,
      "--add-images: a failing file adds no image either")
run = cli("import", "--case", "ADD", "--format", "voc", "--add-images", copies, good)
print(run.stdout, end="")
shown = cli_json("case", "show", "ADD", "--json")
check(shown["n_images"] == 1 and shown["n_cells"] == 0, "--add-images: one image, no cells")
check(len(shown["images"]) == 1 and os.path.basename(shown["images"][0]["path"]) == names[0]
      and [t["box"] for t in shown["images"][0]["truth"]]
      == [{"x": 10, "y": 10, "width": 90, "height": 90}], "--add-images: its truth")
check(shown["counted"] == 0, "--add-images: nothing counted")
check(cli("db", "check").returncode == 0, "db check after --add-images")

shutil.rmtree(TMP)
if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("all checks passed")
