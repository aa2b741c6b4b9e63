"""A review as a technician does it, in the real window (issue 26).

Opens a new case on real BCCD fields from the command line, waits for the analysis,
relabels a cell with a digit key, undoes and redoes it, deletes a cell, confirms one,
draws a missed cell with the mouse, signs the case off through the dialog and quits.
Then reads the store with smearscope-cli and checks every correction it holds (kind,
cell, classes, user, order), the signature, the store's audit chain, and that the
window's count panel showed what the store counts.

With SS_GUI_SHOTS set, saves screenshots of the main states there.
"""

import os
import re
import struct
import sys

from ssgui import (Failure, TMP, bccd_field, check, cli, do_action, extents, log, name_of,
                   run, run_app, screenshot, wait_until, write_user_name)
from sswindow import (CLASSES, DISPLAY, ReviewWindow, check_queue_order, read_count_panel,
                      tile_class)

ACCESSION = "GUI-1"
USER = "gui-reviewer"
# BCCD fields hold one or two white cells each; three val-split fields give the five
# cells the scenario needs (a relabel that moves on, a delete, a confirm, and cells left
# unreviewed so that the sign-off asks "Sign Anyway").
FIELDS = ["BloodImage_00193.jpg", "BloodImage_00014.jpg", "BloodImage_00261.jpg"]
FIELD_VIEW = re.compile(r"^Field (\d+) of (\d+), (\d+) cells?$")
SIGNED = re.compile(r"^Signed by " + re.escape(USER) + r" · read-only$")


def pick_empty_box(cells, width, height, size=56, margin=12):
    """A size x size box of the field clear of every cell's box (image pixels)."""
    for y in range(40, height - size - 40, 16):
        for x in range(40, width - size - 40, 16):
            if all(x + size + margin <= c["box"]["x"]
                   or c["box"]["x"] + c["box"]["width"] + margin <= x
                   or y + size + margin <= c["box"]["y"]
                   or c["box"]["y"] + c["box"]["height"] + margin <= y for c in cells):
                return x, y, size, size
    raise Failure("no empty place in the field to draw a cell")


class Seen:
    """What the window showed, checked against the store afterwards."""


def review(app, db, seen):
    # 1. the case opens and is analysed
    window = ReviewWindow(app, ACCESSION)
    n_cells = window.wait_analysed(len(FIELDS))
    check(n_cells >= 4, f"the scenario needs 4 cells or more, the analysis found {n_cells}")
    seen.n_cells = n_cells
    seen.tiles_at_open = [name for name, _ in window.tiles()]
    # the cells came in field by field: the gallery now shows them in the queue's order
    check_queue_order(window)
    screenshot("01-case-open")

    # 2. relabel the selected cell with a digit: the review moves on to the next cell
    first = window.selected_tile()
    seen.old_class = tile_class(first)
    seen.new_class = 2 if seen.old_class != 2 else 3        # key 3 (neutrophil), else 4
    key = str(seen.new_class + 1)
    log(f"relabel {first!r} with key {key}")
    app.key(key)
    window.wait_left(n_cells - 1, n_cells, "the relabel")
    second = wait_until(lambda: window.selected_tile() != first and window.selected_tile(), 10,
                        "the selection to move on to the next cell")
    relabelled = [t for t, _ in window.tiles() if t.startswith(DISPLAY[seen.new_class] + ",")
                  and t.endswith(", reviewed")]
    check(relabelled, f"no tile reads '{DISPLAY[seen.new_class]}, …, reviewed': {window.tiles()}")
    screenshot("02-after-relabel")

    # 3. undo and redo (the selection stays where review is)
    app.key("ctrl+z")
    window.wait_left(n_cells, n_cells, "the undo")
    app.key("ctrl+shift+z")
    window.wait_left(n_cells - 1, n_cells, "the redo")
    check(window.selected_tile() == second, "undo/redo moved the selection")

    # 4. delete the selected cell (the second of the queue): review moves on
    app.key("Delete")
    window.wait_left(n_cells - 2, n_cells - 1, "the delete")
    third = window.selected_tile()
    log(f"deleted {second!r}; now on {third!r}")

    # 5. confirm it
    app.key("space")
    window.wait_left(n_cells - 3, n_cells - 1, "the confirm")

    # 6. draw a missed cell: D, then drag over an empty part of the field shown
    app.key("ctrl+0")   # the whole field in the view
    view = app.find("panel", FIELD_VIEW)
    seen.drawn_field = int(FIELD_VIEW.match(name_of(view)).group(1)) - 1
    image = cli("case", "show", ACCESSION, "--db", db, "--json")["images"][seen.drawn_field]
    seen.drawn_box = box = pick_empty_box(image["cells"], image["width"], image["height"])
    vx, vy, vw, vh = extents(view)
    # the slide view centres the fitted field (ss_slide_geometry_get_origin)
    scale = min(vw / image["width"], vh / image["height"])
    ox = vx + int((vw - image["width"] * scale) / 2.0 + 0.5)
    oy = vy + int((vh - image["height"] * scale) / 2.0 + 0.5)
    wx, wy = app.window_origin()
    start = (wx + ox + round(box[0] * scale), wy + oy + round(box[1] * scale))
    end = (wx + ox + round((box[0] + box[2]) * scale), wy + oy + round((box[1] + box[3]) * scale))
    log(f"draw in field {seen.drawn_field + 1}: image box {box}, screen {start} -> {end}")
    app.key("d")
    app.drag(start, end)
    window.wait_left(n_cells - 3, n_cells, "the drawn cell")
    app.key("d")        # stop drawing
    screenshot("03-after-draw")
    seen.panel_before = read_count_panel(app)
    log("count panel", seen.panel_before)

    # 7. sign off: Ctrl+Return opens the dialog; cells are left, so its default
    # (Return) is Cancel and the technician clicks "Sign Anyway"
    app.key("ctrl+Return")
    app.dialog("label", f"Sign Off Case {ACCESSION}?")
    body = app.dialog("label", re.compile(r"not reviewed yet"))
    check(f"You sign as {USER}." in name_of(body), f"the dialog reads {name_of(body)!r}")
    sign = app.dialog("push button", re.compile(r"Sign _?Anyway"))
    screenshot("04-sign-off-dialog")
    do_action(sign)
    # read the retained subtitle only, never the application's window list, while the
    # dialog goes away (see App.main_window)
    wait_until(lambda: SIGNED.match(window.subtitle_text()), 15,
               f"the subtitle to read 'Signed by {USER} · read-only'")
    app.find("label", re.compile(r"^Signed off by " + re.escape(USER) + " on "))
    # the signed case is read-only: a digit changes nothing (checked in the store)
    app.focus_window(f"Case {ACCESSION}")
    app.key("5")
    screenshot("05-signed-read-only")
    seen.panel_after = read_count_panel(app)


def check_store(db, seen):
    history = cli("case", "history", ACCESSION, "--db", db, "--json")["corrections"]
    shown = cli("case", "show", ACCESSION, "--db", db, "--json", "--deleted")
    counts = cli("counts", "--case", ACCESSION, "--db", db, "--json")
    checked = cli("db", "check", "--db", db, "--json")
    for k in history:
        log("correction", {key: k[key] for key in ("id", "cell", "kind", "old_class",
                                                     "new_class", "user", "undoes")})

    # every correction, in order, by the reviewer
    kinds = [k["kind"] for k in history]
    expected = ["relabel", "relabel", "relabel", "delete", "confirm", "add"]
    check(kinds == expected, f"the store holds corrections {kinds}, expected {expected} "
          "(relabel, its undo, the redo, delete, confirm, add)")
    check(all(k["user"] == USER for k in history),
          f"corrections by {[k['user'] for k in history]}, all expected by {USER}")
    ids = [k["id"] for k in history]
    check(ids == sorted(ids), f"corrections out of order: {ids}")
    old, new = CLASSES[seen.old_class], CLASSES[seen.new_class]
    relabel, undo, redo, delete, confirm, add = history
    check((relabel["old_class"], relabel["new_class"], relabel["undoes"]) == (old, new, None),
          f"the relabel is {relabel}, expected {old} -> {new}")
    check((undo["old_class"], undo["new_class"], undo["undoes"]) == (new, old, relabel["id"]),
          f"the undo is {undo}, expected {new} -> {old} undoing correction {relabel['id']}")
    check((redo["old_class"], redo["new_class"], redo["undoes"]) == (old, new, None),
          f"the redo is {redo}, expected {old} -> {new}")
    check(relabel["cell"] == undo["cell"] == redo["cell"],
          "the relabel, its undo and its redo touch different cells")
    check(len({relabel["cell"], delete["cell"], confirm["cell"], add["cell"]}) == 4,
          "the relabel, delete, confirm and add should touch four different cells")
    check(confirm["old_class"] == confirm["new_class"], f"the confirm changed a class: {confirm}")
    check(all(k["undoes"] is None for k in (delete, confirm, add)), "an unexpected undo link")

    # a cell the shape check doubted says why on its tile, not only in its tooltip: as many
    # tiles gave the reason when the case opened (nothing reviewed yet) as the store has
    # doubted cells (these fields hold one; any number is checked)
    doubted = [c for image in shown["images"] for c in image["cells"]
               if c.get("doubt") == "nucleus-not-round"]
    with_reason = [t for t in seen.tiles_at_open
                   if t.endswith(", unsure: its nucleus is not round")]
    check(len(with_reason) == len(doubted),
          f"{len(doubted)} cells are doubted in the store (nucleus not round), "
          f"{len(with_reason)} tiles said so when the case opened: {seen.tiles_at_open}")

    # the cells as the store keeps them
    by_id = {c["id"]: (i, c) for i, image in enumerate(shown["images"]) for c in image["cells"]}
    cell = by_id[relabel["cell"]][1]
    check(cell["class"] == new and cell["reviewed"], f"the relabelled cell is {cell}")
    check(by_id[delete["cell"]][1]["deleted"], "the deleted cell is not deleted")
    check(by_id[confirm["cell"]][1]["reviewed"], "the confirmed cell is not reviewed")
    field, drawn = by_id[add["cell"]]
    check(drawn["origin"] == "user" and drawn["reviewed"] and not drawn["deleted"],
          f"the drawn cell is {drawn}")
    check(field == seen.drawn_field,
          f"the cell was drawn in field {seen.drawn_field + 1}, stored in field {field + 1}")
    b = drawn["box"]
    got = (b["x"], b["y"], b["width"], b["height"])
    check(all(abs(g - w) <= 4 for g, w in zip(got, seen.drawn_box)),
          f"the drawn cell's box is {got}, the drag went over {seen.drawn_box} (±4 px)")
    check(add["new_class"] == drawn["class"],
          f"the add says {add['new_class']}, the cell {drawn['class']}")
    check(shown["n_cells"] == seen.n_cells,
          f"{shown['n_cells']} cells stored, {seen.n_cells} expected (1 deleted, 1 drawn)")

    # signed, by the reviewer
    check(shown["status"] == "signed", f"the case's status is {shown['status']}")
    check(shown["signed_by"] == USER, f"the case is signed by {shown['signed_by']}")
    events = [(e["kind"], e["user"]) for e in shown["events"]]
    check(events == [("signed", USER)], f"the case's events are {events}")

    # the audit chain holds, with exactly these corrections
    check(checked["ok"], f"db check: {checked}")
    check(checked["corrections"] == len(expected),
          f"db check counts {checked['corrections']} corrections, {len(expected)} expected")

    # the window's count panel showed what the store counts
    store = {c: counts["counts"].get(c, 0) for c in CLASSES}
    for when, panel in (("before signing", seen.panel_before), ("after signing", seen.panel_after)):
        check(panel["counts"] == store, f"the count panel {when} showed {panel['counts']}, "
              f"the store counts {store}")
        check(panel["shown"] == store, f"the count panel's numbers {when} were {panel['shown']}, "
              f"the store counts {store}")
        check(panel["total"] == counts["counted"],
              f"the count panel {when} showed {panel['total']} counted, the store {counts['counted']}")
        check(panel["blast"] == "Blasts %.1f%%" % counts["blast_pct"],
              f"the count panel {when} showed {panel['blast']!r}, the store {counts['blast_pct']}%")
    log("the store agrees:", len(history), "corrections,", store)


def check_thumbnails(db):
    """The field strip cached one thumbnail per field, named by the field's SHA-256, that
    fits the strip's 160 x 96 box and records the file it was made from."""
    cache = os.path.join(os.environ["XDG_CACHE_HOME"], "smearscope", "thumbnails")
    shown = cli("case", "show", ACCESSION, "--db", db, "--json")
    for image in shown["images"]:
        path = os.path.join(cache, image["sha256"] + ".png")
        check(os.path.exists(path), f"no cached thumbnail {path} for {image['path']}: "
              f"{sorted(os.listdir(cache)) if os.path.isdir(cache) else 'no cache folder'}")
        with open(path, "rb") as f:
            data = f.read()
        check(data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG")
        width, height = struct.unpack(">II", data[16:24])
        check(0 < width <= 160 and 0 < height <= 96, f"{path} is {width} x {height}")
        size = str(os.stat(image["path"]).st_size).encode()
        check(b"Thumb::Size\x00" + size in data,
              f"{path} does not record the size of {image['path']} ({size.decode()} bytes)")
    log("thumbnails cached:", len(shown["images"]))


def main():
    db = os.path.join(TMP, "cases.db")
    env = write_user_name(USER)
    fields = [bccd_field(name) for name in FIELDS]
    seen = Seen()
    run_app(["--db", db, "--case", ACCESSION] + fields, env, "review",
            lambda app: review(app, db, seen))
    check_store(db, seen)
    check_thumbnails(db)


if __name__ == "__main__":
    sys.exit(run(main))
