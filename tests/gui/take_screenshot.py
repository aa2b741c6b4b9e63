"""One README / metainfo screenshot of the review window (run by screenshots.sh).

    take_screenshot.py OUTFILE

Opens a case of three BCCD fields, waits for the analysis (through the store, so that
it works in any language), corrects three cells by keyboard so that the window shows a
review under way, waits for the notification to go, and saves the window as OUTFILE.
Nothing here reads the window's texts: they may be translated.
"""

import os
import subprocess
import sys
import time

from ssgui import App, TMP, bccd_field, check, children, cli, log, role_name, run, wait_until

ACCESSION = "S-2024-0412"
FIELDS = ["BloodImage_00193.jpg", "BloodImage_00312.jpg", "BloodImage_00261.jpg"]


def toasts(app):
    """The notifications on screen (AdwToastWidget, whose accessible name is its type)."""
    frame = next((c for c in children(app.accessible) if role_name(c) == "frame"), None)
    return frame is not None and any(
        role_name(n) == "filler" and n.get_name() == "AdwToastWidget"
        for n in _walk(frame, 0))


def _walk(node, depth):
    yield node
    if depth < 8:       # the toast overlay sits just under the window
        for child in children(node):
            yield from _walk(child, depth + 1)


def main():
    out = os.path.abspath(sys.argv[1])
    db = os.path.join(TMP, "cases.db")
    fields = [bccd_field(name) for name in FIELDS]
    app = App(["--db", db, "--case", ACCESSION] + fields, name="screenshot")
    try:
        window = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid",
                                 str(app.pid), "--name", ACCESSION],
                                capture_output=True, text=True, timeout=60).stdout.split()
        check(window, "no window")
        window = window[0]
        subprocess.run(["xdotool", "windowfocus", "--sync", window], check=True, timeout=30)

        def analysed():
            shown = cli("case", "show", ACCESSION, "--db", db, "--json")
            return len(shown["images"]) == len(FIELDS) and shown
        wait_until(analysed, 120, "the analysis to be stored", interval=0.3)
        time.sleep(1.0)
        # a review under way, as a technician would correct the first three in the queue
        # (the least sure first): the eosinophil at the edge of BloodImage_00193 (called
        # lymphocyte, 52%), BloodImage_00261's neutrophil (called lymphocyte, 66%) and the
        # platelet clump of BloodImage_00312 (called neutrophil, 93%): eosinophil,
        # neutrophil, not a cell
        for key in ("5", "3", "8"):
            app.key(key)
            time.sleep(0.4)
        wait_until(lambda: not toasts(app), 20, "the notification to go", interval=0.3)
        time.sleep(0.5)
        subprocess.run(["import", "-window", window, out], check=True, timeout=60)
        log("saved", out)
    finally:
        app.stop()


if __name__ == "__main__":
    sys.exit(run(main))
