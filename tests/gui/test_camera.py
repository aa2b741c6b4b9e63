"""A camera the cell-type model never learned, in the real window (issue 27).

The README's two sample fields are opened with a cell-type model whose camera check
(MODEL-cameras.csv beside it) knows only a far camera (dark, flat crops): both fields
look unlike it. The window says so in one toast (how many fields, that their calls are
marked unsure, and what teaches the model the camera), every tile's accessible name
says that it is unsure and that its camera is new to the model (after the cell's own
doubt, where it has one: "unsure: its nucleus is not round, and its camera is new to
the model"; the tile shows the cell's own doubt first), and the store keeps the doubt
(the case's JSON: "camera-unlike-training"). With the shipped check the same fields
raise no camera doubt (tests/test-camera-check.py).
"""

import os
import sys

from ssgui import TMP, Toasts, check, cli, log, run, run_app, screenshot
from sswindow import ReviewWindow

ACCESSION = "CAMERA-1"
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.normpath(os.path.join(HERE, "..", "..", "data", "samples"))
MODELS = os.path.normpath(os.path.join(HERE, "..", "..", "data", "models"))


def far_models():
    """The shipped models, but a camera check of a far camera beside the cell-type one."""
    folder = os.path.join(TMP, "models")
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(MODELS):
        link = os.path.join(folder, name)
        if name != "celltype-cameras.csv" and not os.path.lexists(link):
            os.symlink(os.path.join(MODELS, name), link)
    with open(os.path.join(folder, "celltype-cameras.csv"), "w") as f:
        f.write("# a far camera\nthreshold,1\nred_mean,red_sd,red_p90,green_mean,green_sd,"
                "green_p90,blue_mean,blue_sd,blue_p90\n")
        for i in range(10):
            v = 0.10 + 0.01 * i
            f.write(",".join(["%.3f" % v, "0.02", "%.3f" % (v + 0.05)] * 3) + "\n")
    return folder


def main():
    fields = sorted(os.path.join(SAMPLES, n) for n in os.listdir(SAMPLES) if n.endswith(".jpg"))
    db = os.path.join(TMP, "camera.db")

    def body(app):
        toasts = Toasts(app)
        window = ReviewWindow(app, ACCESSION)
        said = toasts.wait_for("a toast saying the camera is new to the model",
                               lambda t: "camera is new to the cell-type model" in t)
        check(said.startswith(f"Calls of {len(fields)} fields marked unsure")
              and "Improve the Model" in said, f"the camera toast: {said!r}")
        n_cells = window.wait_analysed(len(fields))
        tiles = [name for name, _ in window.tiles()]
        log(f"{n_cells} cells; tiles: {tiles}")
        check(n_cells > 0 and len(tiles) == n_cells, f"{n_cells} cells, {len(tiles)} tiles")
        for name in tiles:
            # the cell's own doubt may come first ("unsure: its nucleus is not round, and
            # its camera is new to the model"); the camera's is never left out
            check("unsure: " in name and "its camera is new to the model" in name,
                  f"a tile of an unlike field does not say why it is unsure: {name!r}")
        screenshot("camera-new-to-the-model")

    run_app(["--db", db, "--case", ACCESSION, *fields], {"SMEARSCOPE_MODELS": far_models()},
            "camera", body)
    shown = cli("case", "show", ACCESSION, "--db", db, "--json")
    doubts = [c.get("doubt") for image in shown["images"] for c in image["cells"]]
    check(doubts and all(d and "camera-unlike-training" in d for d in doubts),
          f"the store keeps the camera doubt: {doubts}")
    log("the store keeps the doubt of", len(doubts), "cells")


if __name__ == "__main__":
    sys.exit(run(main))
