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
import sys
import time

from ssgui import (App, Atspi, Failure, TMP, bccd_field, check, children, cli, do_action,
                   extents, log, name_of, run, screenshot, wait_until, write_user_name)

ACCESSION = "GUI-1"
USER = "gui-reviewer"
# BCCD fields hold one or two white cells each; three val-split fields give the five
# cells the scenario needs (a relabel that moves on, a delete, a confirm, a cell left
# unreviewed so that the sign-off asks "Sign Anyway").
FIELDS = ["BloodImage_00193.jpg", "BloodImage_00014.jpg", "BloodImage_00261.jpg"]
# the class names of the store, in key order: key 1 is CLASSES[0]
CLASSES = ["lymphoblast", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil",
           "other", "not_a_cell"]
DISPLAY = ["Lymphoblast", "Lymphocyte", "Neutrophil", "Monocyte", "Eosinophil", "Basophil",
           "Other", "Not a cell"]

LEFT_TO_REVIEW = re.compile(r"^(\d+) of (\d+) cells? left to review$")
ANALYSIS_DONE = re.compile(r"^Analysis finished: (\d+) cells? in (\d+) fields?$")
FIELD_VIEW = re.compile(r"^Field (\d+) of (\d+), (\d+) cells?$")


class Window:
    """What the test reads in the main window."""

    def __init__(self, app):
        self.app = app
        self.subtitle = app.find("label", LEFT_TO_REVIEW, timeout=60)

    def subtitle_text(self):
        return name_of(self.subtitle)

    def left(self):
        m = LEFT_TO_REVIEW.match(self.subtitle_text())
        check(m, f"the window's subtitle reads {self.subtitle_text()!r}")
        return int(m.group(1)), int(m.group(2))

    def tiles(self):
        """(accessible name, selected) of every gallery tile."""
        table = self.app.find("table", "Cell gallery")
        tiles = []
        for cell in children(table):
            inner = [name_of(c) for c in children(cell)]
            selected = cell.get_state_set().contains(Atspi.StateType.SELECTED)
            tiles.append((inner[0] if inner else "", selected))
        return tiles

    def selected_tile(self):
        selected = [name for name, sel in self.tiles() if sel]
        check(len(selected) == 1, f"expected one selected cell in the gallery, got {selected}")
        return selected[0]


def tile_class(tile_name):
    """The class index a tile's accessible name ("Lymphocyte, 52 percent, unsure") says."""
    display = tile_name.split(",")[0]
    check(display in DISPLAY, f"a tile reads {tile_name!r}")
    return DISPLAY.index(display)


def read_count_panel(app):
    """{class name: count}, the counted total and the blast text, from the rows'
    accessible names ("Key 3, Neutrophil: 1 cell, 25.0 percent")."""
    counts = {}
    for c, display in enumerate(DISPLAY):
        key = str(c + 1)
        row = app.find("list item", re.compile(r"^Key %s, %s: " % (key, re.escape(display))))
        text = name_of(row)
        m = re.match(r"^Key \d, [^:]+: (no cells|(\d+)( cells?)?,)", text)
        check(m, f"count row reads {text!r}")
        counts[CLASSES[c]] = 0 if m.group(1) == "no cells" else int(m.group(2))
    total_row = app.find("list item", re.compile(r"^Counted white cells: \d+$"))
    total = int(name_of(total_row).rsplit(" ", 1)[1])
    blast = name_of(app.find("label", re.compile(r"^Blasts ")))
    return counts, total, blast


def row_count_labels(app):
    """The count each row shows on screen (its third label), by key."""
    shown = {}
    for row in app.find_all("list item", re.compile(r"^Key \d, ")):
        box = next(children(row), None)
        labels = [name_of(n) for n in children(box)] if box is not None else []
        key = name_of(row)[4]
        # keycap, name, count, percent (the colour dot is presentation only)
        nums = [t for t in labels if re.fullmatch(r"\d+", t)]
        shown[CLASSES[int(key) - 1]] = int(nums[-1]) if nums else None
    return shown


def pick_empty_box(cells, width, height, size=56, margin=12):
    """A size x size box of the field clear of every cell's box (image pixels)."""
    for y in range(40, height - size - 40, 16):
        for x in range(40, width - size - 40, 16):
            clear = all(x + size + margin <= c["box"]["x"] or c["box"]["x"] + c["box"]["width"] + margin <= x
                        or y + size + margin <= c["box"]["y"] or c["box"]["y"] + c["box"]["height"] + margin <= y
                        for c in cells)
            if clear:
                return x, y, size, size
    raise Failure("no empty place in the field to draw a cell")


def main():
    db = os.path.join(TMP, "cases.db")
    env = write_user_name(USER)
    fields = [bccd_field(name) for name in FIELDS]
    app = App(["--db", db, "--case", ACCESSION] + fields, env, name="review")
    try:
        review(app, db)
    except Failure:
        screenshot("failure")
        print("--- application output ---\n" + app.output(), flush=True)
        app.stop()
        raise
    status = app.quit()
    check(status == 0, f"the application exited with status {status}:\n{app.output()}")
    check_store(db, app)


def review(app, db):
    # 1. the case opens and is analysed
    app.frame(f"Case {ACCESSION}", timeout=60)
    done = app.find("label", ANALYSIS_DONE, timeout=90)
    n_cells, n_fields = map(int, ANALYSIS_DONE.match(name_of(done)).groups())
    log(f"analysis done: {n_cells} cells in {n_fields} fields")
    check(n_fields == len(FIELDS), f"{n_fields} fields analysed, {len(FIELDS)} given")
    check(n_cells >= 4, f"the scenario needs 4 cells or more, the analysis found {n_cells}")
    window = Window(app)
    wait_until(lambda: window.left() == (n_cells, n_cells), 10,
               f"the subtitle to read '{n_cells} of {n_cells} cells left to review'")
    app.focus_window(f"Case {ACCESSION}")
    screenshot("01-case-open")

    # 2. relabel the selected cell with a digit: it moves on to the next cell
    first = window.selected_tile()
    old_class = tile_class(first)
    new_class = 2 if old_class != 2 else 3          # key 3 (neutrophil), else 4
    key = str(new_class + 1)
    log(f"relabel {first!r} with key {key}")
    app.key(key)
    wait_until(lambda: window.left() == (n_cells - 1, n_cells), 10, "the relabel to count")
    second = wait_until(lambda: window.selected_tile() != first and window.selected_tile(), 10,
                        "the selection to move to the next cell")
    check(any(name.startswith(DISPLAY[new_class] + ",") and "reviewed" in name
              and "not reviewed" not in name for name, _ in window.tiles()),
          f"no tile reads '{DISPLAY[new_class]}, …, reviewed': {window.tiles()}")
    screenshot("02-after-relabel")

    # 3. undo and redo
    app.key("ctrl+z")
    wait_until(lambda: window.left() == (n_cells, n_cells), 10, "the undo to count")
    app.key("ctrl+shift+z")
    wait_until(lambda: window.left() == (n_cells - 1, n_cells), 10, "the redo to count")
    check(window.selected_tile() == second, "undo/redo moved the selection")

    # 4. delete the selected cell (the second of the queue)
    app.key("Delete")
    wait_until(lambda: window.left() == (n_cells - 2, n_cells - 1), 10, "the delete to count")
    third = window.selected_tile()
    log(f"deleted {second!r}; now on {third!r}")

    # 5. confirm the next one
    app.key("space")
    wait_until(lambda: window.left() == (n_cells - 3, n_cells - 1), 10, "the confirm to count")

    # 6. draw a missed cell: D, then drag over an empty part of the field
    app.key("ctrl+0")   # fit the whole field in the view
    view = app.find("panel", FIELD_VIEW)
    index = int(FIELD_VIEW.match(name_of(view)).group(1)) - 1
    shown = cli("case", "show", ACCESSION, "--db", db, "--json")
    image = shown["images"][index]
    box = pick_empty_box(image["cells"], image["width"], image["height"])
    vx, vy, vw, vh = extents(view)
    scale = min(vw / image["width"], vh / image["height"])
    ox = int((vw - image["width"] * scale) / 2.0 + 0.5)
    oy = int((vh - image["height"] * scale) / 2.0 + 0.5)
    wx, wy = app.window_origin()
    start = (wx + vx + ox + round(box[0] * scale), wy + vy + oy + round(box[1] * scale))
    end = (wx + vx + ox + round((box[0] + box[2]) * scale), wy + vy + oy + round((box[1] + box[3]) * scale))
    log(f"draw in field {index + 1}: image box {box}, screen {start} -> {end}")
    app.key("d")
    draw_button = app.find("push button", "Draw a missed cell")
    app.drag(start, end)
    wait_until(lambda: window.left()[1] == n_cells, 10, "the drawn cell to count")
    app.key("d")        # stop drawing
    screenshot("03-after-draw")

    # the count panel shows what the store counts (checked again after signing)
    panel = read_count_panel(app)
    shown_numbers = row_count_labels(app)
    log("count panel", panel)

    # 7. sign off: Ctrl+Return opens the dialog; cells are left, so Return would cancel
    left_before_signing = window.left()[0]
    check(left_before_signing > 0, "the scenario leaves a cell unreviewed")
    app.key("ctrl+Return")
    dialog_heading = app.find("label", f"Sign Off Case {ACCESSION}?", timeout=10)
    body = app.find("label", re.compile(r"not reviewed yet"), timeout=10)
    check(f"You sign as {USER}." in name_of(body), f"the dialog reads {name_of(body)!r}")
    sign = app.find("push button", re.compile(r"^_?Sign _?Anyway"), timeout=10)
    screenshot("04-sign-off-dialog")
    import subprocess as sp
    addr = sp.run(['gdbus','call','--session','--dest','org.a11y.Bus','--object-path','/org/a11y/bus','--method','org.a11y.Bus.GetAddress'],capture_output=True,text=True).stdout.strip()[2:-3]
    mon = sp.Popen(['dbus-monitor','--address',addr], stdout=open('/tmp/gexp/a11ymon.log','w'), stderr=sp.STDOUT)
    time.sleep(0.5)
    do_action(sign)
    for i in range(3):
        try:
            log('sub', window.subtitle.get_name())
            b = [name_of(n) for n in app.find_all("label", re.compile(rf"^Signed by"))]
            log('found', b)
        except Exception as e:
            log('EXC', e)
    time.sleep(1)
    mon.terminate()
    from ssgui import Atspi as A, children as ch
    for i in range(8):
        t0=time.monotonic()
        try:
            a = window.subtitle.get_name()
        except Exception as e:
            a = 'EXC %r' % e
        d = A.get_desktop(0)
        apps = [(c.get_name(), c.get_process_id()) for c in ch(d)]
        try:
            app.accessible = [c for c in ch(d) if c.get_process_id() == app.pid][0]
            b = [name_of(n) for n in app.find_all("label", re.compile(rf"^Signed by {USER} · read-only$"))]
        except Exception as e:
            b = 'EXC %r' % e
        log('subtitle now', a, apps, b, time.monotonic()-t0)
        time.sleep(0.3)
    signed = wait_until(lambda: app.find_all("label", re.compile(rf"^Signed by {USER} · read-only$")),
                        15, "the subtitle to read 'Signed by … · read-only'")
    app.find("label", re.compile(r"^Signed off by " + re.escape(USER) + " at "), timeout=10)
    # read-only: a digit no longer changes anything
    app.focus_window(f"Case {ACCESSION}")
    screenshot("05-signed-read-only")
    app.panel_after_signing = read_count_panel(app)
    app.panel_before_signing = panel
    app.shown_numbers = shown_numbers
    app.n_cells = n_cells
    app.first, app.second, app.third = first, second, third
    app.old_class, app.new_class = old_class, new_class
    app.drawn_box = box
    app.drawn_field = index


def check_store(db, app):
    history = cli("case", "history", ACCESSION, "--db", db, "--json")["corrections"]
    shown = cli("case", "show", ACCESSION, "--db", db, "--json", "--deleted")
    counts = cli("counts", "--case", ACCESSION, "--db", db, "--json")
    checked = cli("db", "check", "--db", db, "--json")
    for k in history:
        log("correction", {key: k[key] for key in ("id", "cell", "kind", "old_class", "new_class",
                                                     "user", "undoes")})

    kinds = [k["kind"] for k in history]
    expected = ["relabel", "relabel", "relabel", "delete", "confirm", "add"]
    check(kinds == expected, f"the store holds corrections {kinds}, expected {expected}")
    check(all(k["user"] == USER for k in history),
          f"corrections by {[k['user'] for k in history]}, all expected by {USER}")
    ids = [k["id"] for k in history]
    check(ids == sorted(ids), f"corrections out of order: {ids}")
    old, new = CLASSES[app.old_class], CLASSES[app.new_class]
    relabel, undo, redo, delete, confirm, add = history
    check((relabel["old_class"], relabel["new_class"], relabel["undoes"]) == (old, new, None),
          f"the relabel is {relabel}, expected {old} -> {new}")
    check((undo["old_class"], undo["new_class"], undo["undoes"]) == (new, old, relabel["id"]),
          f"the undo is {undo}, expected {new} -> {old} undoing {relabel['id']}")
    check((redo["old_class"], redo["new_class"], redo["undoes"]) == (old, new, None),
          f"the redo is {redo}, expected {old} -> {new}")
    check(relabel["cell"] == undo["cell"] == redo["cell"], "relabel, undo and redo touch different cells")
    cells = {relabel["cell"], delete["cell"], confirm["cell"], add["cell"]}
    check(len(cells) == 4, f"relabel, delete, confirm and add should touch 4 cells: {history}")
    check(confirm["old_class"] == confirm["new_class"], f"the confirm changed a class: {confirm}")
    check(all(k["undoes"] is None for k in (delete, confirm, add)), "an unexpected undo link")

    # the cells as the store keeps them
    by_id = {c["id"]: (i, c) for i, image in enumerate(shown["images"]) for c in image["cells"]}
    check(by_id[relabel["cell"]][1]["class"] == new and by_id[relabel["cell"]][1]["reviewed"],
          f"the relabelled cell is {by_id[relabel['cell']][1]}")
    check(by_id[delete["cell"]][1]["deleted"], "the deleted cell is not deleted")
    check(by_id[confirm["cell"]][1]["reviewed"], "the confirmed cell is not reviewed")
    field, drawn = by_id[add["cell"]]
    check(drawn["origin"] == "user" and drawn["reviewed"] and not drawn["deleted"],
          f"the drawn cell is {drawn}")
    check(field == app.drawn_field, f"the cell was drawn in field {app.drawn_field + 1}, stored in {field + 1}")
    b = drawn["box"]
    want = app.drawn_box
    tolerance = 4
    check(all(abs(got - exp) <= tolerance for got, exp in
              zip((b["x"], b["y"], b["width"], b["height"]), want)),
          f"the drawn box is {b}, dragged over {want} (±{tolerance} px)")
    check(add["new_class"] == drawn["class"], f"the add says {add['new_class']}, the cell {drawn['class']}")

    # signed, by whom
    check(shown["status"] == "signed", f"the case's status is {shown['status']}")
    check(shown["signed_by"] == USER, f"signed by {shown['signed_by']}")
    events = [(e["kind"], e["user"]) for e in shown["events"]]
    check(events == [("signed", USER)], f"case events {events}")
    check(shown["n_cells"] == app.n_cells, f"{shown['n_cells']} cells stored, {app.n_cells} expected "
          "(analysed - 1 deleted + 1 drawn)")

    # the audit chain holds, with exactly these corrections
    check(checked["ok"], f"db check: {checked}")
    check(checked["corrections"] == len(expected), f"db check counts {checked['corrections']} corrections")

    # the window's count panel showed what the store counts
    store_counts = {c: counts["counts"].get(c, 0) for c in CLASSES}
    for when, (panel, total, blast) in (("before signing", app.panel_before_signing),
                                        ("after signing", app.panel_after_signing)):
        check(panel == store_counts, f"count panel {when} {panel}, store {store_counts}")
        check(total == counts["counted"], f"count panel total {total}, store {counts['counted']}")
        check(blast == "Blasts %.1f%%" % counts["blast_pct"],
              f"count panel {blast!r}, store blast_pct {counts['blast_pct']}")
    check(app.shown_numbers == store_counts,
          f"the count panel's numbers {app.shown_numbers}, store {store_counts}")
    log("store agrees:", len(history), "corrections,", store_counts)


if __name__ == "__main__":
    sys.exit(run(main))
