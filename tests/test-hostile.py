#!/usr/bin/python3
"""Hostile input through smearscope-cli (issue 32): each gives a clear error naming what
is wrong, a non-zero exit, and leaves the case store as it was (its bytes and
`case show --json` compared before and after); the legitimate oddities (grey, alpha,
16-bit and CMYK pictures, paths with spaces, newlines and non-ASCII) work.

1. Pictures: decompression bombs (a PNG and a JPEG of a few hundred bytes declaring
   60000 x 60000 and 65000 x 65000 pixels), an empty file, a PNG and a JPEG cut in
   half, one pixel; a field as 16-bit, grey, RGBA and CMYK files.
2. Model files: declared shapes whose size_t products wrap round to the file's size,
   shapes out of range, and NaN or infinity in every float field (normalisation,
   camera colour, crop stretch, a weight, a batch-norm buffer), each with its CRC made
   right so that only the field is wrong.
3. Annotations: a VOC file and a COCO file of a million boxes; NaN, infinity and 1e999
   in every number field of both formats that is read (COCO's area and score are not).
4. Number options of the CLI given nan, inf, -inf and 1e999.
5. Paths with spaces, a newline and non-ASCII letters: pictures, the store, exports.
6. The store on a read-only mount (or skipped with the reason), on a full disk (a
   file size limit, RLIMIT_FSIZE, and a small tmpfs when a private mount can be made),
   and replaced by a symbolic link (to a text file; dangling).
7. Accession numbers and user names with control characters.

There is no case JSON import (the case JSON is export only, docs/exchange.md): the JSON
read from outside is COCO's, covered in 3.

    test-hostile.py CLI SAMPLES_DIR MODELS_DIR
"""
import hashlib
import json
import math
import os
import resource
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib

from clitest import check, failures

CLI, SAMPLES, MODELS = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="ss-hostile-")
DB = os.path.join(TMP, "cases.db")

try:
    from PIL import Image
except ImportError:
    print("SKIP: /usr/bin/python3 cannot import PIL (Debian: python3-pil)")
    sys.exit(77)


def run(*args, db=DB, limit_bytes=None, timeout=120):
    """smearscope-cli args (with --db db unless db is None); with limit_bytes, under a
    file size limit (SIGXFSZ ignored: a write past it fails with EFBIG)."""
    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    argv = [CLI, *args] + (["--db", db] if db is not None else [])
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=limit if limit_bytes is not None else None)


def ok(*args, **kw):
    r = run(*args, **kw)
    if r.returncode != 0:
        sys.exit("smearscope-cli %r failed (%d): %s" % (args, r.returncode, r.stderr))
    return r


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def state(db=DB, cases=("HOST",)):
    """The SHA-256 of the store's content (every row, as SQL text: a checkpoint moving
    pages from the WAL into the file changes its bytes, not its data) and each case as
    case show --json prints it."""
    connection = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    content = hashlib.sha256("\n".join(connection.iterdump()).encode()).hexdigest()
    connection.close()
    shown = [run("case", "show", a, "--json", db=db).stdout for a in cases]
    return content, shown


def refused(what, r, expected, before=None, db=DB, cases=("HOST",)):
    """r failed with a message holding every string of expected, and the store is as it
    was (before, from state())."""
    message = r.stderr.strip().replace("\n", " | ")
    print("%-40s exit %d: %s" % (what, r.returncode, message[:220]))
    check(r.returncode not in (0, -6, -11) and r.returncode > 0, "%s: exit %d" % (what, r.returncode))
    for e in ([expected] if isinstance(expected, str) else expected):
        check(e in r.stderr, "%s: the message names %r: %r" % (what, e, r.stderr))
    check("AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr,
          what + ": a sanitizer finding")
    if before is not None:
        check(state(db, cases) == before, what + ": the store changed")


STARTED = time.monotonic()


def section(title):
    print("--- %s (at %.1f s)" % (title, time.monotonic() - STARTED), flush=True)


def path(name):
    return os.path.join(TMP, name)


samples = sorted(os.path.join(SAMPLES, n) for n in os.listdir(SAMPLES) if n.endswith(".jpg"))
FIELD = samples[0]
ok("case", "new", "HOST")
ok("analyze", "--case", "HOST", FIELD)
before = state()


# 1. pictures ---------------------------------------------------------------------------

section('1. pictures')

def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def png(width, height, bit_depth, colour_type, raw_rows):
    """A PNG of the given header over raw (filter byte first) rows."""
    return (b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth,
                                             colour_type, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw_rows, 9)) + png_chunk(b"IEND", b""))


def write_bytes(name, data):
    with open(path(name), "wb") as f:
        f.write(data)
    return path(name)


field = Image.open(FIELD).convert("RGB")
field.save(path("field.png"))
# a PNG bomb: 60000 x 60000 declared, one row of zeros compressed (the decoder would
# want 10.8 GB before finding the data short)
bomb_png = write_bytes("bomb.png", png(60000, 60000, 8, 2, b"\0" * (1 + 3 * 60000)))
# a JPEG bomb: a 16 x 16 JPEG whose frame header declares 65000 x 65000
Image.new("RGB", (16, 16), (200, 150, 160)).save(path("small.jpg"), quality=90)
with open(path("small.jpg"), "rb") as f:
    jpeg = bytearray(f.read())
sof = next(i for i in range(2, len(jpeg) - 9) if jpeg[i] == 0xff and jpeg[i + 1] in (0xc0, 0xc2))
struct.pack_into(">HH", jpeg, sof + 5, 65000, 65000)
bomb_jpg = write_bytes("bomb.jpg", bytes(jpeg))
with open(path("field.png"), "rb") as f:
    whole_png = f.read()
with open(FIELD, "rb") as f:
    whole_jpg = f.read()
empty = write_bytes("empty.jpg", b"")
cut_png = write_bytes("cut.png", whole_png[:len(whole_png) // 2])
cut_jpg = write_bytes("cut.jpg", whole_jpg[:len(whole_jpg) // 2])
one_pixel = write_bytes("one-pixel.png", png(1, 1, 8, 2, b"\0\xc8\x96\xa0"))
print("bomb.png %d bytes, bomb.jpg %d bytes" % (os.path.getsize(bomb_png), len(jpeg)))

for what, image, expected in [
        ("PNG bomb", bomb_png, ["bomb.png", "60000 x 60000 pixels is over the limit"]),
        ("JPEG bomb", bomb_jpg, ["bomb.jpg", "65000 x 65000 pixels is over the limit"]),
        ("empty file", empty, ["empty.jpg", "the file is empty"]),
        ("PNG cut in half", cut_png, ["cut.png", "the PNG file is damaged"]),
        ("JPEG cut in half", cut_jpg, ["cut.jpg", "truncated"]),
        ("no such file", path("absent.jpg"), ["absent.jpg", "cannot open"])]:
    started = time.monotonic()
    refused("analyze: " + what, run("analyze", "--case", "HOST", image), expected, before)
    check(time.monotonic() - started < 60, what + ": took over a minute")
    refused("analyze --json: " + what, run("analyze", "--json", "-", image, db=None), expected)
    refused("classify: " + what,
            run("classify", os.path.join(MODELS, "celltype.ssm"), image, db=None), expected)
    refused("scale: " + what, run("scale", image, db=None), expected)

# one pixel is a picture: no cells in it, said as such or analysed to nothing
r = run("analyze", "--json", "-", one_pixel, db=None)
print("one pixel: exit %d: %s" % (r.returncode, r.stderr.strip()[:200]))
check(r.returncode in (0, 1) and ("AddressSanitizer" not in r.stderr), "one pixel: a crash")
if r.returncode == 0:
    check(sum(len(i["cells"]) for i in json.loads(r.stdout)["images"]) == 0,
          "one pixel: cells found in one pixel")
else:
    check("one-pixel.png" in r.stderr, "one pixel: the message names the file")


def cells_of(image):
    r = ok("analyze", "--json", "-", "--no-classifier", image, db=None)
    return [(c["box"], c["class"]) for i in json.loads(r.stdout)["images"] for c in i["cells"]]


# the same field in other encodings: 16 bits a sample (v * 257, as a camera's 8 bits
# widened), RGBA with every pixel opaque, grey, and CMYK (Adobe's, as Photoshop saves it)
rgb = field.tobytes()
w, h = field.size
rows16 = b"".join(b"\0" + b"".join(struct.pack(">H", v * 257) for v in rgb[y * w * 3:(y + 1) * w * 3])
                  for y in range(h))
write_bytes("field16.png", png(w, h, 16, 2, rows16))
field.convert("RGBA").save(path("alpha.png"))
field.convert("L").save(path("grey.png"))
field.convert("CMYK").save(path("cmyk.jpg"), quality=95)
field.save(path("rgb95.jpg"), quality=95)
reference = cells_of(path("field.png"))
check(len(reference) > 0, "the field as PNG: no cells")
check(cells_of(path("field16.png")) == reference, "16-bit PNG: not the cells of the 8-bit one")
check(cells_of(path("alpha.png")) == reference, "opaque RGBA PNG: not the cells of the RGB one")
grey = cells_of(path("grey.png"))
print("grey: %d cells (colour: %d)" % (len(grey), len(reference)))
cmyk, rgb95 = cells_of(path("cmyk.jpg")), cells_of(path("rgb95.jpg"))
print("CMYK JPEG: %d cells, the RGB JPEG of the same quality %d" % (len(cmyk), len(rgb95)))
check(abs(len(cmyk) - len(rgb95)) <= 1, "CMYK JPEG: %d cells against %d" % (len(cmyk), len(rgb95)))
check(state() == before, "pictures: the store changed")


# 2. model files -------------------------------------------------------------------------

section('2. model files')

with open(os.path.join(MODELS, "celltype.ssm"), "rb") as f:
    ensemble = f.read()
check(ensemble[:4] == b"SSE1", "celltype.ssm is not an SSE1 file")
n_members, _, info_len, _ = struct.unpack_from("<4I", ensemble, 16)
member_size = struct.unpack_from("<Q", ensemble, 32)[0]
start = 32 + 8 * n_members + info_len
member = bytearray(ensemble[start:start + member_size])
check(member[:4] == b"SSM1" and struct.unpack_from("<I", member, 4)[0] == 1,
      "celltype.ssm's member is not an SSM1 version 1 file")
# the same network as version 3 (its resampling, stem, camera colour and crop stretch
# fields there, all 0: bilinear, 7 x 7, none, none)
v3 = member[:88] + bytearray(40) + member[88:]
struct.pack_into("<I", v3, 4, 3)


def sealed(data):
    """data with its size and CRC-32 made right."""
    data = bytearray(data[:-4])
    struct.pack_into("<Q", data, 8, len(data) + 4)
    return bytes(data + struct.pack("<I", zlib.crc32(bytes(data)) & 0xffffffff))


v3 = bytearray(sealed(v3))
write_bytes("v3.ssm", bytes(v3))
r = run("classify", "--json", path("v3.ssm"), FIELD, db=None)
check(r.returncode == 0, "the version 3 copy of the model does not load: " + r.stderr)
n_classes, = struct.unpack_from("<I", v3, 36)
storage, info = struct.unpack_from("<II", v3, 64)
n_params, n_buffers = struct.unpack_from("<QQ", v3, 72)
params_at = 128 + 48 * n_classes + info
buffers_at = params_at + n_params * (2 if storage == 1 else 4)


def patched(*fields):
    data = bytearray(v3)
    for fmt, offset, value in fields:
        struct.pack_into(fmt, data, offset, value)
    return sealed(data)


nan, inf = float("nan"), float("inf")
f16 = {nan: 0x7e00, inf: 0x7c00, -inf: 0xfc00}
models = [
    # size_t products: n_params * 4 wraps by 2^64, so the sections "add up" to the file
    ("n_params + 2^62", [("<Q", 72, n_params + (1 << 62))], "do not add up"),
    ("n_buffers + 2^62", [("<Q", 80, n_buffers + (1 << 62))], "do not add up"),
    ("n_params 2^64 - 1", [("<Q", 72, (1 << 64) - 1)], "do not add up"),
    ("input 2^31 x 2^31", [("<I", 24, 1 << 31), ("<I", 28, 1 << 31)], "outside 8..1024"),
    ("input 65535 x 65535", [("<I", 24, 65535), ("<I", 28, 65535)], "outside 8..1024"),
    ("width 2^32 - 1", [("<I", 32, 0xffffffff)], "width"),
    ("classes 2^32 - 1", [("<I", 36, 0xffffffff)], "inconsistent"),
    ("info 2^32 - 1 bytes", [("<I", 68, 0xffffffff)], "inconsistent"),
]
for value in (nan, inf, -inf):
    name = {nan: "NaN", inf: "inf", -inf: "-inf"}[value] if not math.isnan(value) else "NaN"
    for c in range(3):
        models.append(("mean[%d] %s" % (c, name), [("<f", 40 + 4 * c, value)], "normalisation"))
        models.append(("std[%d] %s" % (c, name), [("<f", 52 + 4 * c, value)], "normalisation"))
    for j in range(6):
        models.append(("camera colour[%d] %s" % (j, name), [("<f", 96 + 4 * j, value)],
                       "camera colour %d" % j))
    models.append(("crop stretch %s" % name, [("<f", 120, value)], "crop stretch"))
    if storage == 1:
        models.append(("parameter 0 %s" % name, [("<H", params_at, f16[value])], "parameter 0"))
        models.append(("parameter %d %s" % (n_params - 1, name),
                       [("<H", params_at + 2 * (n_params - 1), f16[value])],
                       "parameter %d" % (n_params - 1)))
    else:
        models.append(("parameter 0 %s" % name, [("<f", params_at, value)], "parameter 0"))
    if n_buffers:
        models.append(("buffer 0 %s" % name, [("<f", buffers_at, value)], "buffer 0"))
for what, fields, expected in models:
    model = write_bytes("bad.ssm", patched(*fields))
    refused("model: " + what, run("classify", model, FIELD, db=None), ["bad.ssm", expected])
refused("model: analyze with NaN weights",
        run("analyze", "--case", "HOST", "--model",
            write_bytes("nan.ssm", patched(("<H" if storage == 1 else "<f", params_at,
                                            f16[nan] if storage == 1 else nan))), FIELD),
        ["nan.ssm", "parameter 0"], before)
# the ensemble's own header: member sizes that wrap, a million members
bad_ensemble = bytearray(ensemble)
struct.pack_into("<Q", bad_ensemble, 32, (1 << 64) - 8)
refused("ensemble: member size 2^64 - 8",
        run("classify", write_bytes("bad.ssm", sealed(bad_ensemble)), FIELD, db=None), "bad.ssm")
bad_ensemble = bytearray(ensemble)
struct.pack_into("<I", bad_ensemble, 16, 1000000)
refused("ensemble: a million members",
        run("classify", write_bytes("bad.ssm", sealed(bad_ensemble)), FIELD, db=None), "bad.ssm")


# 3. annotations --------------------------------------------------------------------------

section('3. annotations')

name = os.path.basename(FIELD)
shown = json.loads(before[1][0])
W, H = shown["images"][0]["width"], shown["images"][0]["height"]
VOC_OBJECT = ("<object><name>WBC</name><bndbox><xmin>%s</xmin><ymin>%s</ymin><xmax>%s</xmax>"
              "<ymax>%s</ymax></bndbox></object>\n")


def voc(boxes, width=W, height=H):
    return ("<annotation><filename>%s</filename><size><width>%s</width><height>%s</height>"
            "<depth>3</depth></size>\n" % (name, width, height)
            + "".join(VOC_OBJECT % b for b in boxes) + "</annotation>\n")


def coco(bbox=(10, 10, 50, 50), width=W, height=H, **extra):
    """COCO text with the numbers written as given (strings are written bare)."""
    def num(v):
        return v if isinstance(v, str) else json.dumps(v)
    annotation = '{"id": 1, "image_id": 1, "category_id": 1, "bbox": [%s]%s}' % (
        ", ".join(num(v) for v in bbox),
        "".join(', "%s": %s' % (k, v) for k, v in extra.items()))
    return ('{"images": [{"id": 1, "file_name": "%s", "width": %s, "height": %s}], '
            '"categories": [{"id": 1, "name": "WBC"}], "annotations": [%s]}'
            % (name, num(width), num(height), annotation))


def write_text(name, text):
    with open(path(name), "w", encoding="utf-8") as f:
        f.write(text)
    return path(name)


# a million boxes, written as the files would be (about 100 MB of VOC, 60 MB of COCO)
with open(path("million.xml"), "w") as f:
    f.write(voc([])[:-len("</annotation>\n")])
    for i in range(1000000):
        f.write(VOC_OBJECT % (1, 1, 5, 5))
    f.write("</annotation>\n")
with open(path("million.json"), "w") as f:
    f.write('{"images": [{"id": 1, "file_name": "%s", "width": %d, "height": %d}], '
            '"categories": [{"id": 1, "name": "WBC"}], "annotations": [' % (name, W, H))
    f.write(",".join('{"id":%d,"image_id":1,"category_id":1,"bbox":[1,1,4,4]}' % i
                     for i in range(1000000)))
    f.write("]}")
for fmt, file in (("voc", path("million.xml")), ("coco", path("million.json"))):
    started = time.monotonic()
    refused("%s: a million boxes" % fmt,
            run("import", "--case", "HOST", "--format", fmt, file, "--user", "tester"),
            [os.path.basename(file), "nothing was imported"], before)
    print("  refused in %.1f s" % (time.monotonic() - started))
    os.unlink(file)

annotations = []
for word in ("nan", "-inf", "Infinity", "1e999"):
    box = [10, 10, 100, 100]
    for k, field_name in enumerate(("xmin", "ymin", "xmax", "ymax")):
        b = list(box)
        b[k] = word
        annotations.append(("voc", "voc %s %s" % (field_name, word), voc([tuple(b)]), field_name))
    annotations.append(("voc", "voc width %s" % word, voc([tuple(box)], width=word), "width"))
    annotations.append(("voc", "voc height %s" % word, voc([tuple(box)], height=word), "height"))
for word in ("1e999", "-1e999", "NaN", "Infinity"):
    for k in range(4):
        b = [10, 10, 50, 50]
        b[k] = word
        annotations.append(("coco", "coco bbox[%d] %s" % (k, word), coco(bbox=b), "bbox"))
    annotations.append(("coco", "coco width %s" % word, coco(width=word), "width"))
    annotations.append(("coco", "coco height %s" % word, coco(height=word), "height"))
    annotations.append(("coco", "coco polygon %s" % word,
                        coco(segmentation="[[10, 10, %s, 10, 50, 50]]" % word), "segmentation"))
    annotations.append(("coco", "coco RLE size %s" % word,
                        coco(segmentation='{"size": [%s, %d], "counts": [10]}' % (word, W)),
                        "segmentation"))
    annotations.append(("coco", "coco RLE count %s" % word,
                        coco(segmentation='{"size": [%d, %d], "counts": [%s]}' % (H, W, word)),
                        "segmentation"))
for fmt, what, text, _ in annotations:
    file = write_text("bad." + ("xml" if fmt == "voc" else "json"), text)
    r = run("import", "--case", "HOST", "--format", fmt, file, "--user", "tester")
    # NaN and Infinity are not JSON: json-glib stops at them; 1e999 is JSON, and is
    # refused where it is read
    refused("import: " + what, r, [os.path.basename(file), "nothing was imported"], before)


# 4. number options ------------------------------------------------------------------------

section('4. number options')

options = [("analyze", o) for o in ("--nms", "--min-confidence", "--unsure-below", "--scale",
                                    "--cell-diameter", "--views-below")]
options += [("classify", "--cell-diameter"), ("classify", "--views-below"),
            ("counts", "--threshold"), ("export", "--threshold"), ("report", "--threshold")]
for command, option in options:
    for word in ("nan", "inf", "-inf", "-nan", "Infinity", "1e999"):
        if command == "analyze":
            args = ["analyze", "--case", "HOST", option + "=" + word, FIELD]
        elif command == "classify":
            args = ["classify", option + "=" + word, os.path.join(MODELS, "celltype.ssm"), FIELD]
        elif command == "counts":
            args = ["counts", "--case", "HOST", option + "=" + word]
        elif command == "export":
            args = [command, "--case", "HOST", option + "=" + word, "--format", "json",
                    "--out", path("out")]
        else:
            args = [command, "--case", "HOST", option + "=" + word, "--out", path("out")]
        refused("%s %s=%s" % (command, option, word), run(*args), option, before)
        check(not os.path.exists(path("out")), "%s %s=%s wrote a file" % (command, option, word))


# 5. paths with spaces, a newline, non-ASCII ----------------------------------------------

section('5. paths with spaces')

for folder in ("with space", "new\nline", "ünïcødé 血液 ☃", "-starts with a dash"):
    where = path(folder)
    os.makedirs(where)
    image = os.path.join(where, "field %s.jpg" % folder.replace("/", ""))
    shutil.copy(FIELD, image)
    db = os.path.join(where, "store %s.db" % folder)
    ok("case", "new", "P1", db=db)
    ok("analyze", "--case", "P1", image, db=db)
    shown_p = json.loads(ok("case", "show", "P1", "--json", db=db).stdout)
    check([i["path"] for i in shown_p["images"]] == [os.path.abspath(image)],
          "path %r: the store holds %r" % (folder, [i["path"] for i in shown_p["images"]]))
    check(shown_p["n_cells"] == shown["n_cells"],
          "path %r: %d cells, the field has %d" % (folder, shown_p["n_cells"], shown["n_cells"]))
    out = os.path.join(where, "case %s.json" % folder)
    ok("export", "--case", "P1", "--format", "json", "--out", out, db=db)
    with open(out, encoding="utf-8") as f:
        exported = json.load(f)
    check(exported["images"][0]["path"] == os.path.abspath(image),
          "path %r: the export names %r" % (folder, exported["images"][0]["path"]))
    print("path %r: stored, analysed (%d cells) and exported" % (folder, shown_p["n_cells"]))


# 6. the store on a read-only mount, a full disk, replaced by a symbolic link ---------------

section('6. the store on')

def in_namespace(script):
    """sh -c script in a private user and mount namespace (mounts made there are seen by
    nothing else); None when one cannot be made here."""
    if shutil.which("unshare") is None:
        return None
    r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                       capture_output=True, text=True, timeout=300)
    if r.returncode == 97:
        return None
    return r


writes = [("case new", ["case", "new", "RO-2"]),
          ("analyze", ["analyze", "--case", "HOST", samples[-1]]),
          ("relabel", ["relabel", "--case", "HOST", "--cell", str(shown["images"][0]["cells"][0]["id"]),
                       "--class", "3", "--user", "tester"]),
          ("signoff", ["signoff", "--case", "HOST", "--user", "tester"]),
          ("import", ["import", "--case", "HOST", "--format", "voc", "--user", "tester",
                      write_text("good.xml", voc([(10, 10, 100, 100)]))])]

# read-only: the store's folder bind-mounted read-only in a private namespace; each
# write is tried there, and the bytes compared with the store outside
ro_dir = path("ro")
os.makedirs(ro_dir)
shutil.copy(DB, os.path.join(ro_dir, "cases.db"))
ro_db = os.path.join(ro_dir, "cases.db")
ro_before = state(ro_db)
script = ("mount --bind \"$1\" \"$1\" && mount -o remount,bind,ro \"$1\" || exit 97; shift; "
          "exec \"$@\"")
ran = False
for what, args in writes:
    r = in_namespace("set -- %s; %s" % (" ".join("'%s'" % a.replace("'", "'\\''")
                                                for a in [ro_dir, CLI, *args, "--db", ro_db]),
                                       script))
    if r is None:
        print("SKIP: read-only mount: no private mount namespace can be made here "
              "(unshare --user --mount)")
        break
    ran = True
    refused("read-only mount: " + what, r, ["cases.db", "cannot be written"], ro_before, ro_db)
if ran:
    r = in_namespace("set -- %s; %s" % (" ".join("'%s'" % a for a in [ro_dir, CLI, "case", "show",
                                                                   "HOST", "--json", "--db", ro_db]),
                                       script))
    check(r.returncode == 0 and r.stdout == ro_before[1][0],
          "read-only mount: case show does not read the store: " + r.stderr)

# a full disk: file size limits (every write past them fails with EFBIG, as on a full
# disk) from below SQLite's 32 KiB -shm file to a few WAL pages; each write either fits,
# whole, or is refused with the store as it was
full_db = path("full.db")
for limit in (16384, 40000, 65536, 131072):
    for what, args in writes:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(full_db + suffix):
                os.unlink(full_db + suffix)
        shutil.copy(DB, full_db)
        full_before = state(full_db)
        r = run(*args, db=full_db, limit_bytes=limit)
        what = "file size limit %d: %s" % (limit, what)
        if r.returncode == 0:
            print("%-40s fitted" % what)
        else:
            refused(what, r, ["full.db"], full_before, full_db)
        check(run("db", "check", db=full_db).returncode == 0, what + ": db check after it")
# a real full disk: a 2 MiB tmpfs in a private namespace, filled to the last byte
tmpfs = path("tmpfs")
os.makedirs(tmpfs)
script = ("mount -t tmpfs -o size=2m tmpfs \"$1\" || exit 97; cp \"$2\" \"$1/cases.db\"; "
          "dd if=/dev/zero of=\"$1/filler\" bs=4k count=$(( $(stat -f -c %a \"$1\") - 12 )) "
          ">/dev/null 2>&1; sha256sum \"$1/cases.db\"; "
          "\"$3\" analyze --case HOST \"$4\" --db \"$1/cases.db\"; echo \"status $?\"; "
          "sha256sum \"$1/cases.db\"; rm \"$1/filler\"; \"$3\" db check --db \"$1/cases.db\" "
          ">/dev/null && echo check ok")
r = in_namespace("set -- '%s' '%s' '%s' '%s'; %s" % (tmpfs, DB, CLI, samples[-1], script))
if r is None:
    print("SKIP: full tmpfs: no private mount namespace can be made here")
else:
    lines = r.stdout.split("\n")
    sums = [l.split()[0] for l in lines if l.endswith("/cases.db")]
    status = [l for l in lines if l.startswith("status ")]
    print("full tmpfs: %s: %s" % (status, r.stderr.strip()[:220]))
    check(status and status[0] != "status 0", "full tmpfs: analyze did not fail")
    check("No space left" in r.stderr or "full" in r.stderr, "full tmpfs: the message: " + r.stderr)
    check(len(sums) == 2 and sums[0] == sums[1], "full tmpfs: the store changed: %s" % sums)
    check("check ok" in r.stdout, "full tmpfs: db check failed after the disk had room again")

# replaced by a symbolic link: to a text file (left as it was), and dangling (nothing made)
notes = write_text("notes.txt", "a lab's notes, not a case store\n" * 100)
notes_sum = sha256(notes)
link = path("link.db")
os.symlink(notes, link)
for what, args in writes[:2] + [("case show", ["case", "show", "HOST"])]:
    refused("store a link to a text file: " + what, run(*args, db=link), "not a SQLite database")
    check(sha256(notes) == notes_sum, "store a link to a text file: the file changed")
os.unlink(link)
os.symlink(path("nowhere/cases.db"), link)
refused("store a dangling link: case new", run("case", "new", "X1", db=link), "link.db")
check(not os.path.exists(path("nowhere")), "store a dangling link: something was created")
os.unlink(link)


# 7. control characters in accession numbers and user names -------------------------------

section('7. control characters')

cell_id = str(shown["images"][0]["cells"][0]["id"])
for text, shown_as in (("A\x01B", "A\\001B"), ("A\nB", "A\\nB"), ("A\x1b[31mB", "A\\033[31mB"),
                       ("A\x7fB", "A\\177B"), ("A\u0085B", "A\\302\\205B")):
    refused("accession %r" % text, run("case", "new", text), [shown_as, "control characters"],
            before)
    check("\x1b" not in run("case", "new", text).stderr, "accession %r: raw escape printed" % text)
    for what, args in (("relabel", ["relabel", "--case", "HOST", "--cell", cell_id, "--class", "3"]),
                       ("signoff", ["signoff", "--case", "HOST"]),
                       ("import", ["import", "--case", "HOST", "--format", "voc",
                                   path("good.xml")])):
        r = run(*args, "--user", text)
        refused("%s --user %r" % (what, text), r, [shown_as, "control characters"], before)
        check("\x1b" not in r.stderr, "%s --user %r: raw escape printed" % (what, text))

shutil.rmtree(TMP)
if failures:
    print("%d checks failed" % len(failures))
    sys.exit(1)
print("all hostile inputs refused cleanly")
