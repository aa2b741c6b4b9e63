"""Review every cell of a case by keyboard alone, counting the key presses (issue 26).

A case of six real BCCD fields (twelve white cells) is opened and analysed, or, with
SS_GUI_GENERATOR set (tests/gen-bench-case) a case of SS_GUI_CELLS generated cells (100
by default) on one field, opened as stored; then, for each cell the review selects, one
key: a digit (relabel) or Space (confirm), taking
turns. The review must move on by itself: N cells take N key presses, plus at most a
few navigation keys (N, "next cell") if the selection ever got lost. No mouse, no
dialog. The window must then say that all N cells are reviewed and the store must hold
exactly N review corrections, one per cell, of the kind the key asked for.
"""

import os
import pwd
import re
import subprocess
import sys
import time

from ssgui import TMP, bccd_field, check, cli, log, name_of, run, run_app, screenshot
from sswindow import CLASSES, ReviewWindow, tile_class

ACCESSION = "GUI-KEYS"
# six fields where the analysis finds two white cells each (val and train splits)
FIELDS = ["BloodImage_00193.jpg", "BloodImage_00261.jpg", "BloodImage_00312.jpg",
          "BloodImage_00034.jpg", "BloodImage_00040.jpg", "BloodImage_00070.jpg"]
MAX_NAVIGATION = 3
REVIEWED = re.compile(r"^(\d+) of (\d+) cells? reviewed")


def main():
    db = os.path.join(TMP, "cases.db")
    generator = os.environ.get("SS_GUI_GENERATOR")
    if generator:
        cells = int(os.environ.get("SS_GUI_CELLS", "100"))
        made = subprocess.run([generator, "--fields", "1", "--cells", str(cells), "--accession",
                               ACCESSION, db], capture_output=True, text=True, timeout=120)
        check(made.returncode == 0, f"{generator} exited with {made.returncode}:\n"
              f"{made.stdout}{made.stderr}")
        args = ["--db", db, "--case", ACCESSION]
        n_fields, least = 1, cells
    else:
        args = ["--db", db, "--case", ACCESSION] + [bccd_field(name) for name in FIELDS]
        n_fields, least = len(FIELDS), 10
    planned = run_app(args, None, "keyboard",
                      lambda app: review(app, n_fields, least, read_tiles=not generator))
    check_store(db, planned)


def review(app, n_fields, least, read_tiles=True):
    """Review every cell by keyboard. read_tiles: look at the selected gallery tile before
    each key (its class chooses the key); without it (100 cells: reading the tiles
    through AT-SPI costs seconds a cell) the keys alternate Space and 2 blindly, and the
    store says afterwards what each did."""
    window = ReviewWindow(app, ACCESSION)
    n = window.wait_analysed(n_fields)
    check(n >= least, f"the keyboard review needs {least} cells or more; the case has {n}")
    log(f"{n} cells to review")

    planned = []        # (tile name, key, class the cell ends with)
    navigation = 0
    started = time.monotonic()
    while window.left()[0] > 0:
        check(len(app.keys) <= n + MAX_NAVIGATION,
              f"{len(app.keys)} key presses and still {window.left()[0]} cells left: {app.keys}")
        selected = [name for name, sel in window.tiles() if sel] if read_tiles else ["cell"]
        if not selected:
            app.key("n")                      # next cell of the queue
            navigation += 1
            log("no cell selected: pressed N")
            time.sleep(0.2)
            continue
        tile = selected[0]
        cls = tile_class(tile) if read_tiles else 0
        left = window.left()[0]
        if len(planned) % 2 == 0:
            key, final = "space", cls if read_tiles else None   # confirm the call
        else:
            final = 1 if cls != 1 else 2      # call it a lymphocyte (2), else a neutrophil (3)
            key = str(final + 1)
        app.key(key)
        planned.append((tile, key, CLASSES[final] if final is not None else None))
        window.wait_left(left - 1, n, f"key {key} on {tile!r}")
    elapsed = time.monotonic() - started

    presses = len(app.keys)
    log(f"{n} cells reviewed with {presses} key presses ({navigation} navigation) "
        f"in {elapsed:.1f} s: {' '.join(app.keys)}")
    check(presses == n + navigation and navigation <= MAX_NAVIGATION,
          f"{presses} key presses for {n} cells ({navigation} navigation)")
    check(window.left() == (0, n), f"the subtitle reads {window.subtitle_text()!r}")
    check(window.subtitle_text() == f"All {n} cells reviewed",
          f"the subtitle reads {window.subtitle_text()!r}, not 'All {n} cells reviewed'")
    progress = app.find("label", REVIEWED)
    check(REVIEWED.match(name_of(progress)).groups() == (str(n), str(n)),
          f"the count panel reads {name_of(progress)!r}")
    screenshot("keyboard-all-reviewed")
    return planned


def check_store(db, planned):
    history = cli("case", "history", ACCESSION, "--db", db, "--json")["corrections"]
    shown = cli("case", "show", ACCESSION, "--db", db, "--json")
    checked = cli("db", "check", "--db", db, "--json")
    cells = [c for image in shown["images"] for c in image["cells"]]
    n = len(cells)

    check(len(history) == n == len(planned),
          f"{len(history)} corrections stored for {n} cells and {len(planned)} review keys")
    check(len({k["cell"] for k in history}) == n, "a cell was corrected twice, another never")
    # no user-name preference (memory settings): the login name, as g_get_user_name()
    user = pwd.getpwuid(os.getuid()).pw_name
    for k, (tile, key, final) in zip(history, planned):
        if final is None:                     # Space on a cell not looked at: as called
            final = k["old_class"]
        kind = "confirm" if key == "space" or k["old_class"] == final else "relabel"
        check(k["kind"] == kind and k["new_class"] == final and k["undoes"] is None,
              f"key {key} on {tile!r} stored {k['kind']} {k['old_class']} -> {k['new_class']}, "
              f"expected {kind} to {final}")
        check(k["user"] == user, f"a correction by {k['user']}, expected the login name {user}")
    check(all(c["reviewed"] for c in cells), "a cell is not reviewed in the store")
    by_id = {c["id"]: c for c in cells}
    check(all(by_id[k["cell"]]["class"] == (final if final is not None else k["old_class"])
              for k, (_, _, final) in zip(history, planned)),
          "a cell's stored class is not the one its key gave")
    check(checked["ok"] and checked["corrections"] == n, f"db check: {checked}")
    log(f"the store holds {n} review corrections, one per cell, by {user}")


if __name__ == "__main__":
    sys.exit(run(main))
