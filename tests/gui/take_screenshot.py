"""One README / metainfo screenshot of the review window (run by screenshots.sh).

    take_screenshot.py OUTFILE

Opens a case of three BCCD fields, waits for the analysis (through the store, so that
it works in any language), reviews three cells by keyboard so that the window shows a
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
# (field, the call, the key a technician presses) for the first cells of the review queue
REVIEW = [("BloodImage_00312.jpg", "not_a_cell", "space"),
          ("BloodImage_00193.jpg", "lymphocyte", "5"),
          ("BloodImage_00261.jpg", "lymphocyte", "3")]


def review_queue(case):
    """(field, class) of the case's cells in the window's review queue order: unsure
    first, then the least certain, ties by id (ss-case-document.c, queue_compare)."""
    cells = [(not c["unsure"], c["confidence"], c["id"], os.path.basename(image["path"]),
              c["class"]) for image in case["images"] for c in image["cells"]]
    return [(field, cls) for *_, field, cls in sorted(cells)]


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
        # a review under way, as a technician would take the first three of the queue
        # (unsure first, the least sure first): the platelet clump of BloodImage_00312,
        # called not a cell by its size, confirmed (Space); the eosinophil at the edge of
        # BloodImage_00193 and BloodImage_00261's neutrophil, both called lymphocyte:
        # eosinophil (5), neutrophil (3). Next in the queue then: 00312's monocyte,
        # called lymphocyte. The keys fit these calls only: if the analysis calls the
        # fields otherwise, say so rather than save a review that makes no sense.
        queue = review_queue(analysed())
        for (field, called, key), (got_field, got_called) in zip(REVIEW, queue):
            check((got_field, got_called) == (field, called),
                  f"the queue's cells changed: {queue[:len(REVIEW)]}; the screenshot's "
                  f"keys fit {[(f, c) for f, c, _ in REVIEW]}: update REVIEW")
        for _, _, key in REVIEW:
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
