"""Hostile pictures in the real window (issue 32).

A case is opened on a good BCCD field and four hostile files: a PNG and a JPEG
decompression bomb (a few hundred bytes and a few KB declaring 60000 x 60000 and 65000 x
65000 pixels) and a PNG and a JPEG cut in half. Each bad file gets a toast naming it and
saying why it was not analysed (over the pixel limit, cannot be decoded, truncated); the
good field is analysed and its cells appear. The application's memory stays far below
what a bomb would take (its peak resident size, read from /proc). Then the case is
opened again with a sample field of data/samples added: it is analysed, its cells
appear, a digit relabels one, and the store holds the two good fields only.
(The good field comes first: the window shows one toast at a time for 8 s, and toasts
of files refused at once would be gone before the window is read.)
"""

import os
import re
import struct
import sys
import zlib

from ssgui import TMP, Toasts, bccd_field, check, cli, log, run, run_app, screenshot
from sswindow import ReviewWindow
from test_errors import GOOD_FIELD, NOT_ANALYSED, relabel_still_works

ACCESSION = "HOSTILE-1"
SAMPLES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "..", "data", "samples"))


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def bomb_png(path):
    """60000 x 60000 RGB declared, one row of zeros given."""
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n"
                + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0))
                + png_chunk(b"IDAT", zlib.compress(b"\0" * (1 + 3 * 60000), 9))
                + png_chunk(b"IEND", b""))


def bomb_jpeg(good, path):
    """The good field's JPEG with its frame header saying 65000 x 65000, cut after the
    first scan's first bytes (a few KB)."""
    with open(good, "rb") as f:
        data = bytearray(f.read())
    sof = next(i for i in range(2, len(data) - 9)
               if data[i] == 0xff and data[i + 1] in (0xc0, 0xc1, 0xc2))
    struct.pack_into(">HH", data, sof + 5, 65000, 65000)
    sos = data.index(b"\xff\xda", sof)
    with open(path, "wb") as f:
        f.write(bytes(data[:sos + 2048]) + b"\xff\xd9")


def main():
    good = bccd_field(GOOD_FIELD)
    bad = {
        "CUT.jpg": "truncated",
        "BOMB.png": "60000 x 60000 pixels is over the limit",
        "BOMB.jpg": "65000 x 65000 pixels is over the limit",
        "CUT.png": "the PNG file is damaged",
    }
    paths = {name: os.path.join(TMP, name) for name in bad}
    bomb_png(paths["BOMB.png"])
    bomb_jpeg(good, paths["BOMB.jpg"])
    # a PNG of the field cut in half: the field as PNG made with the CLI's overlay would
    # change it; ImageMagick's convert is in the GUI tests' packages (screenshots)
    whole_png = os.path.join(TMP, "whole.png")
    check(os.system(f"convert '{good}' '{whole_png}'") == 0, "convert could not write a PNG")
    with open(whole_png, "rb") as f:
        data = f.read()
    with open(paths["CUT.png"], "wb") as f:
        f.write(data[:len(data) // 2])
    with open(good, "rb") as f:
        data = f.read()
    with open(paths["CUT.jpg"], "wb") as f:
        f.write(data[:len(data) // 2])
    for name, path in paths.items():
        log(f"{name}: {os.path.getsize(path)} bytes")
    db = os.path.join(TMP, "hostile.db")
    peak = {}

    def body(app):
        toasts = Toasts(app)
        window = ReviewWindow(app, ACCESSION)
        # read at once: the toasts come together when the analysis ends
        for name, reason in bad.items():
            prefix = NOT_ANALYSED.format(name)
            message = toasts.wait_for(f"a toast saying {prefix!r}…",
                                      lambda t, p=prefix: t.startswith(p))
            check(reason in message, f"the toast for {name} does not say {reason!r}: {message!r}")
        finished = toasts.wait_for("the toast 'Analysis finished: …'",
                                   lambda t: t.startswith("Analysis finished:"))
        check(re.search(r"\b1 fields?\b", finished),
              f"the analysis should report 1 field: {finished!r}")
        n_cells = window.wait_analysed(1)
        log(f"the good field was analysed: {n_cells} cells")
        check(n_cells > 0 and window.tiles(), "the good field's cells do not appear")
        screenshot("hostile-images")
        with open(f"/proc/{app.pid}/status") as f:
            peak["kB"] = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

    run_app(["--db", db, "--case", ACCESSION, good, *paths.values()], None, "hostile", body)
    log(f"the application's peak resident size: {peak['kB'] // 1024} MiB")
    # a bomb decoded would take 10 GB; the window with one field takes a few hundred MB
    check(peak["kB"] < 2 * 1024 * 1024, f"the application reached {peak['kB'] // 1024} MiB")

    # the same case again, a sample field added: the window still analyses and relabels
    sample = sorted(os.path.join(SAMPLES, n) for n in os.listdir(SAMPLES) if n.endswith(".jpg"))[0]

    def again(app):
        window = ReviewWindow(app, ACCESSION)
        n_cells = window.wait_analysed(2)
        log(f"with the sample field: {n_cells} cells")
        check(window.tiles(), "the gallery shows no cells")
        relabel_still_works(app, window, n_cells)

    run_app(["--db", db, "--case", ACCESSION, sample], None, "again", again)
    shown = cli("case", "show", ACCESSION, "--db", db, "--json")
    stored = [image["path"] for image in shown["images"]]
    check(stored == [os.path.abspath(good), os.path.abspath(sample)],
          f"the store holds images {stored}, expected the two good fields only")
    log("the store holds the two good fields only")


if __name__ == "__main__":
    sys.exit(run(main))
