"""The lab's models in the real window (issue 30): Cell-Type Models… and Improve the
Model from This Lab's Corrections….

A case of sixteen fields (the two sample fields, eight times each, so that a run lasts
long enough to be cancelled) is analysed with the command
line and every cell reviewed as a neutrophil (relabelled, or confirmed where the
analysis already calls it one): reviewed cells to learn from. (The model as such, on the
crops as taken, calls them lymphocytes: the guard's figures.) A case of another
"microscope" (one more copy of a sample field) has its cells reviewed as lymphocytes, and
a third case has no field. Then, in the window:

1. Main menu > Improve the Model from This Lab's Corrections…: the dialog lists the
   cases to learn from, each with how many of its cells were reviewed; the two with
   reviewed cells are chosen, the empty one cannot be. Learn (Return), then Cancel
   (Escape) at once. Once the learning has had time to end, the store holds no model: a cancelled
   run offers nothing.
2. Main menu > Cell-Type Models…: the shipped model is listed, in use. Improve… opens
   the list again; the other microscope's case is left out, and Learn runs the learning
   on LAB-1 alone; the dialog shows both guard figures ("model 0.00 → candidate
   1.00 (… cells)") and what was taught (LAB-1's cells, all neutrophils: none of the
   case left out), and offers Use This Model. Pressed: smearscope-cli model list says the new model is in use,
   adopted by the window's user; the Cell-Type Models dialog lists it as in use.
3. Main menu > Analyse Again with the Model in Use…: the proposed LAB-1-2 is made with
   the same sixteen fields, analysed by the adopted model, and LAB-1 keeps every call
   and correction it had.
4. Improve… again with the other microscope's case alone: the adopted model's head,
   which learned LAB-1, would be replaced, so the dialog shows how the candidate calls
   LAB-1's cells (worse) and does not offer it, saying to choose LAB-1 too; the store
   still holds one model.

With SS_GUI_SHOTS set, saves screenshots of both dialogs.
"""

import os
import re
import sys
import time

# tests/clitest.py: distinct_copy (a case takes a picture once)
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from clitest import distinct_copy  # noqa: E402
from ssgui import (TMP, Atspi, check, cli, click_in_dialog, do_action, focus, focus_dialog,
                   log, name_of, run, run_app, screenshot, wait_until,
                   open_menu_item, find_all, children)
from sswindow import ReviewWindow, enabled

SAMPLES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                        "..", "..", "data", "samples"))
ACCESSION = "LAB-1"
OTHER = "OTHER-1"     # another microscope's case: left out of the learning
EMPTY = "EMPTY-1"     # a case without fields: nothing to learn from
FIGURES = re.compile(r"^model (\d\.\d\d) → candidate (\d\.\d\d) \((\d+) cells?\)")
TAUGHT = re.compile(r"^(\d+) reviewed cells? \(neutrophil (\d+)\) from " + ACCESSION)


def reviewed_case(db, accession, fields, cls):
    """A case of fields analysed with the command line, every cell reviewed as cls:
    relabelled, or confirmed where the analysis already calls it one. Its cell count."""
    cli("case", "new", accession, "--db", db, json_output=False)
    cli("analyze", "--case", accession, "--db", db, *fields, json_output=False)
    cells = [c for image in cli("case", "show", accession, "--db", db, "--json")["images"]
             for c in image["cells"] if not c["deleted"]]
    for cell in cells:
        what = ["--confirm"] if cell["class"] == cls else ["--class", cls]
        cli("relabel", "--case", accession, "--cell", str(cell["id"]), *what,
            "--db", db, json_output=False)
    log(f"{accession}: {len(cells)} cells reviewed as {cls}")
    return len(cells)


def make_case(db):
    samples = sorted(f for f in os.listdir(SAMPLES) if f.endswith(".jpg"))
    fields = []
    for copy in "abcdefgh":
        for name in samples:
            fields.append(os.path.join(TMP, f"{copy}-{name}"))
            distinct_copy(os.path.join(SAMPLES, name), fields[-1], copy)
    n_cells = reviewed_case(db, ACCESSION, fields, "neutrophil")
    others = []
    for copy in "yz":   # two fields: one to learn from, one to hold back
        others.append(os.path.join(TMP, f"{copy}-{samples[0]}"))
        distinct_copy(os.path.join(SAMPLES, samples[0]), others[-1], copy)
    n_other = reviewed_case(db, OTHER, others, "lymphocyte")
    cli("case", "new", EMPTY, "--db", db, json_output=False)
    return n_cells, n_other


def models(db):
    return cli("model", "list", "--db", db, "--json")


def dialog_nodes(app, role, pattern):
    """Visible nodes of the windows other than the main one (asked only while a dialog
    is open, see App.main_window)."""
    found = []
    for top in children(app.accessible):
        if name_of(top) == name_of(app.root):
            continue
        found += find_all(top, role, pattern, visible=True)
    return found


def chooser(app, n_cells, n_other):
    """The list of cases to learn from: each case's reviewed cells, the two with some
    chosen, the empty one not choosable."""
    def reviewed(n):
        return f"Open · {n} cell{'' if n == 1 else 's'} reviewed"
    for accession, subtitle in ((ACCESSION, reviewed(n_cells)), (OTHER, reviewed(n_other)),
                                (EMPTY, "Open · no cell reviewed yet")):
        app.dialog("label", accession)
        app.dialog("label", subtitle)
    boxes = {name_of(n): n for n in dialog_nodes(app, "check box", re.compile(r"-1$"))}
    check(sorted(boxes) == [EMPTY, ACCESSION, OTHER], f"the chooser's check boxes: {sorted(boxes)}")
    states = {name: (n.get_state_set().contains(Atspi.StateType.CHECKED), enabled(n))
              for name, n in boxes.items()}
    check(states == {ACCESSION: (True, True), OTHER: (True, True), EMPTY: (False, False)},
          f"chosen, choosable: {states}")
    app.dialog("label", f"2 cases chosen, {n_cells + n_other} reviewed cells")
    log("the chooser lists the three cases:", states)
    return boxes


def cancelled(app, window, db, n_cells, n_other):
    open_menu_item(app, window, "Improve the Model from This Lab’s Corrections…")
    chooser(app, n_cells, n_other)
    time.sleep(0.5)
    screenshot("learn-dialog-cases")
    # Learn has the keyboard focus: Return starts the run, and Escape is the dialog's
    # Cancel while it runs (the keyboard at once: a walk of the accessibility tree could
    # outlast the run)
    focus_dialog(app, "Improve the Model")
    app.key("Return")
    app.key("Escape")
    log("Escape (Cancel) pressed")
    # the run stops at its next step and the dialog goes; give the learning as long as a
    # whole run takes here, then the store must still hold no model
    time.sleep(20)
    listed = models(db)
    check(listed["models"] == [] and listed["in_use"] == "shipped",
          f"a cancelled run left the store with {listed}")
    log("after Cancel the store holds no model")


def improved(app, window, db, n_cells, n_other):
    open_menu_item(app, window, "Cell-Type Models…")
    app.dialog("label", re.compile(r"^Shipped model \(celltype\.ssm\)$"))
    app.dialog("label", "In use")
    time.sleep(0.5)
    screenshot("models-dialog-shipped")
    do_action(app.dialog("push button", re.compile(r"^_?Improve…")))
    boxes = chooser(app, n_cells, n_other)
    click_in_dialog(app, "Improve the Model", boxes[OTHER])
    app.dialog("label", f"1 case chosen, {n_cells} reviewed cells")
    log(f"{OTHER} left out")
    do_action(app.dialog("push button", re.compile(r"^_?Learn\b")))
    use = app.dialog("push button", re.compile(r"^_?Use This Model"), timeout=180)
    def both_figures():
        # both rows are filled in one go, but the accessibility tree may be read between
        # the two: wait for both
        found = [FIGURES.match(name_of(n)) for n in dialog_nodes(app, "label", FIGURES)]
        return len(found) >= 2 and found
    figures = wait_until(both_figures, 10, "the guard's two figures")
    check(len(figures) == 2, f"the dialog shows {len(figures)} guard figures")
    held, reference = figures
    check(float(held.group(2)) > float(held.group(1)),
          f"offered, yet not better on the held-back cells: {held.group(0)}")
    check(int(reference.group(3)) == 160, f"the reference figure: {reference.group(0)}")
    taught = wait_until(lambda: [TAUGHT.match(name_of(n)) for n in dialog_nodes(app, "label", TAUGHT)],
                        10, "what was taught")
    check(int(taught[0].group(1)) == n_cells, f"what was taught: {taught[0].group(0)}")
    camera = re.compile(r"answers only for cells that look like this lab’s camera "
                        r"\((\d+) of (\d+) held-back cells")
    said = wait_until(lambda: [camera.search(name_of(n)) for n in dialog_nodes(app, "label", camera)],
                      10, "the verdict saying what the lab's head answers for")
    check(said[0].group(1) == said[0].group(2),
          f"the lab's head answers for every held-back cell: {said[0].group(0)}")
    log("the dialog shows", held.group(0), "|", reference.group(0), "|", taught[0].group(0))
    time.sleep(0.5)
    screenshot("learn-dialog-offered")
    listed = models(db)
    check(len(listed["models"]) == 1 and listed["in_use"] == "shipped",
          f"offered, the store lists {listed}")
    do_action(use)
    adopted = wait_until(lambda: models(db)["in_use"] == 1 and models(db), 10,
                         "the store's model in use to change")
    model = adopted["models"][0]
    check(model["adopted_by"] is not None and model["in_use"],
          f"the adopted model: {model}")
    log(f"model 1 ({model['name']}) in use, adopted by {model['adopted_by']}")
    # the list of the dialog still open says so too
    wait_until(lambda: dialog_nodes(app, "label", re.compile(r"^1\. celltype-lab-1$")), 10,
               "the new model in the list")
    time.sleep(0.5)
    screenshot("models-dialog-adopted")
    focus_dialog(app, "Cell-Type Models")
    app.key("Escape")
    time.sleep(0.5)
    focus(app, window.title)


def analysed_again(app, window, db):
    """Main menu > Analyse Again with the Model in Use…, proposed accession accepted: a
    new case of the same fields, analysed by the model adopted above, its origin in its
    notes; the case it came from keeps its calls and its corrections."""
    def calls(shown):
        return [(image["path"], image["model_checksum"],
                 [(c["id"], c["class"], c["deleted"]) for c in image["cells"]])
                for image in shown["images"]]

    before = cli("case", "show", ACCESSION, "--db", db, "--json")
    adopted = models(db)["models"][0]
    open_menu_item(app, window, "Analyse Again with the Model in Use…")
    app.dialog("label", re.compile(r"^A new case is made with the 16 fields of case "
                                   + ACCESSION + r", analysed by the model now in use, "
                                   + re.escape(adopted["name"])))
    time.sleep(0.5)
    screenshot("analyse-again-dialog")
    # GTK 4.8 names a response button "_Analyse Again Analyse Again"
    do_action(app.dialog("push button", re.compile(r"^_?Analyse Again")))
    # the same window shows the new case (not looked up among the application's
    # windows while the dialog is destroyed: see ssgui.App.main_window)
    wait_until(lambda: name_of(window.frame) == f"Case {ACCESSION}-2", 30,
               "the window to show the new case")
    n_cells = window.wait_analysed(len(before["images"]), timeout=240)
    again = cli("case", "show", ACCESSION + "-2", "--db", db, "--json")
    check(sorted(i["path"] for i in again["images"]) == sorted(i["path"] for i in before["images"]),
          "the new case has the same fields")
    check({i["model_checksum"] for i in again["images"]} == {adopted["sha256"]},
          f"the new case's fields were analysed by the adopted model {adopted['sha256'][:12]}")
    check(again["notes"] is not None
          and f"Analysed again from case {ACCESSION} with the model" in again["notes"],
          f"the new case's notes: {again['notes']!r}")
    after = cli("case", "show", ACCESSION, "--db", db, "--json")
    check(calls(after) == calls(before), "the case analysed again kept its calls and corrections")
    log(f"case {ACCESSION}-2: {len(again['images'])} fields, {n_cells} cells, by model "
        f"{adopted['name']}; {ACCESSION} unchanged")


def forgets(app, window, db, n_cells, n_other):
    """Improve… with OTHER-1 alone, once a model taught from LAB-1 is in use: refused,
    because the candidate calls LAB-1's cells worse."""
    open_menu_item(app, window, "Improve the Model from This Lab’s Corrections…")
    app.dialog("label", f"2 cases chosen, {n_cells + n_other} reviewed cells")
    boxes = {name_of(n): n for n in dialog_nodes(app, "check box", re.compile(r"-\d$"))}
    click_in_dialog(app, "Improve the Model", boxes[ACCESSION])
    app.dialog("label", f"1 case chosen, {n_other} reviewed cell{'' if n_other == 1 else 's'}")
    do_action(app.dialog("push button", re.compile(r"^_?Learn\b")))
    app.dialog("label", re.compile(r"^Not offered: the candidate forgets what this lab taught "
                                   r"the model in use before, from " + ACCESSION + r"\. "
                                   r"Choose those cases too"), timeout=180)
    earlier = re.compile(r"^model (\d\.\d\d) → candidate (\d\.\d\d) \((\d+) cells?\), of "
                         + ACCESSION + ";")
    found = wait_until(lambda: [earlier.match(name_of(n))
                                for n in dialog_nodes(app, "label", earlier)], 10,
                       "the figure of the cells taught before")
    check(float(found[0].group(2)) < float(found[0].group(1))
          and int(found[0].group(3)) == n_cells,
          f"the cells LAB-1 taught, forgotten: {found[0].group(0)}")
    log("refused:", found[0].group(0))
    time.sleep(0.5)
    screenshot("learn-dialog-forgets")
    check(len(models(db)["models"]) == 1, "a refused candidate is not recorded")
    do_action(app.dialog("push button", re.compile(r"^_?Close\b")))
    time.sleep(0.5)
    focus(app, window.title)


def main():
    db = os.path.join(TMP, "cases.db")
    n_cells, n_other = make_case(db)

    def body(app):
        window = ReviewWindow(app, ACCESSION)
        cancelled(app, window, db, n_cells, n_other)
        improved(app, window, db, n_cells, n_other)
        analysed_again(app, window, db)
        forgets(app, window, db, n_cells, n_other)

    run_app(["--db", db, "--case", ACCESSION], None, "models", body)


if __name__ == "__main__":
    sys.exit(run(main))
