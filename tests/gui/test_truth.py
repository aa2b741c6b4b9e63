"""Ground truth beside the model's cells in the real window (issue 28).

A case analysed from data/samples with the command line gets ground truth for each
field with smearscope-cli import (a small Pascal VOC file per field: an untyped WBC box
and a Neutrophil); opened in the window, the Truth toggle (win.show-truth) is enabled, the
field view says its truth cells are shown, and the window counts only the model's cells.
Toggling it hides the truth: the view says so and the field's pixels change; toggling
again draws the same pixels as before. A case without truth shows no Truth button.

With SS_GUI_SHOTS set, saves screenshots with the truth shown and hidden.
"""

import os
import re
import subprocess
import sys
import time

from ssgui import TMP, check, cli, do_action, extents, log, name_of, run, run_app, screenshot
from sswindow import ReviewWindow, enabled

SAMPLES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "..", "data", "samples"))
WITH_TRUTH = "TRUTH-1"
WITHOUT_TRUTH = "TRUTH-0"
FIELD_VIEW = re.compile(r"^Field (\d+) of (\d+), (\d+) cells?(?:; (\d+) truth cells? (shown|hidden))?$")
# two truth cells of each sample field: one untyped (BCCD's WBC), one typed
TRUTH = [("WBC", 40, 40, 160, 150), ("Neutrophil", 300, 200, 420, 330)]


def voc(image, width, height):
    objects = "".join(
        f"<object><name>{name}</name><bndbox><xmin>{x0}</xmin><ymin>{y0}</ymin>"
        f"<xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>\n"
        for name, x0, y0, x1, y1 in TRUTH)
    return (f"<annotation><filename>{os.path.basename(image)}</filename><size>"
            f"<width>{width}</width><height>{height}</height><depth>3</depth></size>\n"
            f"{objects}</annotation>\n")


def make_cases(db):
    samples = sorted(os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES) if f.endswith(".jpg"))
    check(len(samples) >= 2, f"{SAMPLES} has {len(samples)} sample fields, the test needs 2")
    for accession, fields in ((WITH_TRUTH, samples[:2]), (WITHOUT_TRUTH, samples[:1])):
        cli("case", "new", accession, "--db", db, json_output=False)
        cli("analyze", "--case", accession, "--db", db, *fields, json_output=False)
    # the window opens on the field of the first cell to review: every field has truth
    annotations = []
    for image in cli("case", "show", WITH_TRUTH, "--db", db, "--json")["images"]:
        name = os.path.splitext(os.path.basename(image["path"]))[0]
        annotations.append(os.path.join(TMP, name + ".xml"))
        with open(annotations[-1], "w") as f:
            f.write(voc(image["path"], image["width"], image["height"]))
    cli("import", "--case", WITH_TRUTH, "--format", "voc", "--db", db, *annotations,
        json_output=False)
    shown = cli("case", "show", WITH_TRUTH, "--db", db, "--json")
    stored = [len(image["truth"]) for image in shown["images"]]
    check(stored == [len(TRUTH)] * len(stored), f"the store holds {stored} truth cells per field")
    return sum(len(image["cells"]) for image in shown["images"])


def field_pixels(app, view):
    """The field view's pixels on screen, as raw RGB bytes."""
    x, y, w, h = extents(view)
    ox, oy = app.window_origin()
    out = subprocess.run(["import", "-window", "root", "-crop", f"{w}x{h}+{ox + x}+{oy + y}",
                          "-depth", "8", "rgb:-"], capture_output=True, timeout=60)
    check(out.returncode == 0 and len(out.stdout) == w * h * 3,
          f"import -crop gave {len(out.stdout)} bytes for {w} x {h}: {out.stderr[-300:]!r}")
    return out.stdout


def n_changed(a, b):
    return sum(a[i:i + 3] != b[i:i + 3] for i in range(0, min(len(a), len(b)), 3))


def wait_view(app, view, state, timeout=10.0):
    """The field view's name once it says the truth is in state (shown, hidden, None);
    then a moment for the frame to reach the screen."""
    deadline = time.monotonic() + timeout
    while True:
        match = FIELD_VIEW.match(name_of(view))
        if match and match.group(5) == state:
            time.sleep(0.5)
            return match
        check(time.monotonic() < deadline,
              f"the field view says {name_of(view)!r}, not truth {state}")
        time.sleep(0.1)


def with_truth(app, n_cells):
    window = ReviewWindow(app, WITH_TRUTH)
    # a toggle of a stateless action is a push button to AT-SPI
    toggle = app.find("push button", "Truth")
    check(enabled(toggle), "the Truth toggle is disabled in a case with truth")
    view = app.find(None, FIELD_VIEW, visible=True)
    match = wait_view(app, view, "shown")
    check(int(match.group(4)) == len(TRUTH), f"the field view says {name_of(view)!r}")
    # the truth is not counted: the window's total is the model's cells
    left = window.left()
    check(left is not None and left[1] == n_cells,
          f"the window counts {left}, the store has {n_cells} model cells")
    log("the field view says", repr(name_of(view)))
    shown = field_pixels(app, view)
    screenshot("truth-shown")

    do_action(toggle)
    wait_view(app, view, "hidden")
    hidden = field_pixels(app, view)
    screenshot("truth-hidden")
    changed = n_changed(shown, hidden)
    log(f"hiding the truth changed {changed} pixels of the field view")
    # two boxes of 120 x 110 and 120 x 130 image pixels, fitted to the view: their
    # dashed edges alone are hundreds of pixels
    check(changed >= 200, f"hiding the truth changed only {changed} pixels of the field view")

    do_action(toggle)
    wait_view(app, view, "shown")
    again = field_pixels(app, view)
    check(n_changed(shown, again) == 0,
          f"showing the truth again drew {n_changed(shown, again)} pixels differently")


def without_truth(app):
    ReviewWindow(app, WITHOUT_TRUTH)
    view = app.find(None, FIELD_VIEW, visible=True)
    wait_view(app, view, None)
    # no truth, no Truth button: its room goes back to the "Dim below" words
    shown = app.find_all("push button", "Truth", visible=True)
    check(not shown, "a Truth button shows in a case without truth")
    log("without truth: no Truth button, the field view says", repr(name_of(view)))


def main():
    db = os.path.join(TMP, "cases.db")
    n_cells = make_cases(db)
    run_app(["--db", db, "--case", WITH_TRUTH], None, "with-truth",
            lambda app: with_truth(app, n_cells))
    run_app(["--db", db, "--case", WITHOUT_TRUTH], None, "without-truth", without_truth)


if __name__ == "__main__":
    sys.exit(run(main))
