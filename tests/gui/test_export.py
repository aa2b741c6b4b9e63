"""Exports from the real window (issue 28): the case report as PDF and a CSV, through the
primary menu and its shortcut, the save dialog, and the toast that says where the file
went; then an export into a folder that cannot be written, whose toast says why and what
to do, and the window still reviews.

A case of the two fields in data/samples is analysed from the command line, with a lab
name and US Letter chosen in the preferences (the keyfile settings backend). Then:

1. Ctrl+E opens "Export Report" in the documents folder with ACCESSION-report.pdf
   suggested; Return saves it there. The toast reads "Report saved to ACCESSION-report.pdf" and
   offers "Open"; pdftotext finds the accession, the lab name and DRAFT (the case is not
   signed), pdfinfo says letter.
2. Main menu > Export Data > Cells (CSV)…: the dialog starts in the folder of the last
   export with ACCESSION-cells.csv; the toast reads "Cells saved to
   ACCESSION-cells.csv"; the file has a header and one row per cell the window shows.
3. Main menu > Export Data > Result Message (HL7)…: the case has no patient reference,
   so the toast says so and offers "Case Details…" to give it one; nothing is written
   (test_case_details.py presses that button).
4. Ctrl+E into a read-only folder (a read-only tmpfs when run as root, whom permissions
   do not stop; a folder without write permission otherwise): the toast reads "Could
   not write ACCESSION-report.pdf: REASON. Choose another folder."; no file appears;
   its "Choose Folder…" opens the save dialog again, and the report is saved elsewhere;
   a digit key still relabels a cell.
5. The preferences' Report page reads "US Letter" for the paper size.

The save dialog is GTK's own (the test session has no portal), driven with keys as a
person would: Return takes what it offers; in step 4 a whole path is typed over it.
"""

import csv
import os
import re
import shutil
import subprocess
import sys

from ssgui import (SKIP, Toasts, TMP, check, do_action, focus, log, name_of, open_menu_item, run,
                   run_app, save_as, screenshot)
from sswindow import ReviewWindow

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "data", "samples")
FIELDS = ["BloodImage_00001.jpg", "BloodImage_00003.jpg"]
ACCESSION = "EXP-7"
LAB = "Smearscope Test Laboratory"
NOT_WRITTEN = re.compile(r"^Could not write ([^/]+): (.+)\. Choose another folder\.$")


def write_settings():
    """The lab name and US Letter for the report, through the keyfile backend in the
    private XDG_CONFIG_HOME, and a documents folder (user-dirs.dirs), where the first
    export is offered. Returns the documents folder and the environment to start the
    app with."""
    config = os.environ["XDG_CONFIG_HOME"]
    documents = os.path.join(os.environ["HOME"], "Documents")
    os.makedirs(documents, exist_ok=True)
    with open(os.path.join(config, "user-dirs.dirs"), "w") as f:
        f.write('XDG_DOCUMENTS_DIR="$HOME/Documents"\n')
    folder = os.path.join(config, "glib-2.0", "settings")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "keyfile"), "w") as f:
        f.write(f"[org/smearscope/Smearscope]\nreport-lab-name='{LAB}'\nreport-paper='letter'\n")
    return documents, {"GSETTINGS_BACKEND": "keyfile"}


def read_only_folder():
    """A folder the application cannot write in, and how to undo it. None when it
    cannot be had (root, and no tmpfs may be mounted)."""
    folder = os.path.join(TMP, "read-only")
    os.makedirs(folder, exist_ok=True)
    if os.geteuid() != 0:
        os.chmod(folder, 0o555)
        return folder, lambda: os.chmod(folder, 0o755)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "smearscope-gui-test",
                           folder], capture_output=True, text=True)
    if done.returncode != 0:
        log(f"cannot mount a read-only tmpfs as root: {done.stderr.strip()}")
        return None, None
    return folder, lambda: subprocess.run(["umount", folder], check=True)


def export(app, window, folder, toasts):
    # 1. the PDF report through its shortcut
    report = os.path.join(folder, f"{ACCESSION}-report.pdf")
    app.key("ctrl+e")
    save_as(app, window, "Export Report")
    message = toasts.wait_for("the toast 'Report saved to …'",
                              lambda t: t.startswith("Report saved to"), timeout=60)
    check(message == f"Report saved to {ACCESSION}-report.pdf", f"the toast reads {message!r}")
    # GTK 4.8 names a button after its label twice ("Open Open")
    offered = toasts.buttons[message]
    check(len(offered) == 1 and offered[0].split()[0] == "Open",
          f"the toast should offer Open, it has {offered}")
    check(os.path.getsize(report) > 1000, f"{report} is {os.path.getsize(report)} bytes")
    text = subprocess.run(["pdftotext", "-layout", report, "-"], capture_output=True, text=True,
                          check=True).stdout
    for word in (ACCESSION, LAB, "DRAFT"):
        check(word in text, f"pdftotext of the report has no {word!r}:\n{text[:1500]}")
    info = subprocess.run(["pdfinfo", report], capture_output=True, text=True, check=True).stdout
    check(re.search(r"Page size:\s+612 x 792 pts", info),
          f"the report should be US Letter (the preference):\n{info}")
    log("the report holds the accession, the lab, DRAFT, and is US Letter")

    # 2. the cells as CSV through the menu
    cells = os.path.join(folder, f"{ACCESSION}-cells.csv")
    open_menu_item(app, window, "Export Data", "Cells (CSV)…", shot="export-1-menu")
    save_as(app, window, "Export Cells")
    message = toasts.wait_for("the toast 'Cells saved to …'",
                              lambda t: t.startswith("Cells saved to"))
    check(message == f"Cells saved to {ACCESSION}-cells.csv", f"the toast reads {message!r}")
    with open(cells, newline="") as f:
        rows = list(csv.DictReader(f))
    _, n_cells = window.left()
    check(len(rows) == n_cells, f"{cells} has {len(rows)} rows, the window shows {n_cells} cells")
    check(rows and "class" in rows[0], f"{cells} has no class column: {list(rows[0]) if rows else []}")
    log(f"the CSV has {len(rows)} rows, one per cell")

    # 3. HL7 needs a patient reference this case does not have
    hl7 = os.path.join(folder, f"{ACCESSION}-result.hl7")
    open_menu_item(app, window, "Export Data", "Result Message (HL7)…")
    save_as(app, window, "Export Result Message (HL7)")
    message = toasts.wait_for("the toast about the missing patient reference",
                              lambda t: "patient reference" in t)
    # libadwaita 1.2 cuts a toast at the window's width: about 140 characters fit the
    # 1280-pixel window, fewer a narrower one
    check(len(message) <= 110, f"the toast is too long to be read on one line: {message!r}")
    check(message == f"HL7 needs a patient reference; case {ACCESSION} has none. Add it in "
          "Case Details.", f"the toast reads {message!r}")
    check(toasts.buttons[message] and toasts.buttons[message][0].startswith("Case Details"),
          f"the toast should offer Case Details…, it has {toasts.buttons[message]}")
    check(not os.path.exists(hl7), f"{hl7} was written without a patient reference")


def failed_export(app, window, documents, toasts):
    folder, undo = read_only_folder()
    if folder is None:
        log("SKIPPED the read-only folder: as root, no tmpfs could be mounted")
        return
    try:
        target = os.path.join(folder, f"{ACCESSION}-report.pdf")
        app.key("ctrl+e")
        save_as(app, window, "Export Report", target)
        # its button opens the save dialog again, for another folder
        toasts.press = "Choose Folder"
        message = toasts.wait_for("the toast 'Could not write …'",
                                  lambda t: t.startswith("Could not write"), timeout=60)
        m = NOT_WRITTEN.match(message)
        check(m and m.group(1) == os.path.basename(target), f"the toast reads {message!r}, "
              f"expected 'Could not write {os.path.basename(target)}: REASON. Choose another "
              f"folder.'")
        log(f"the failed export says why: {m.group(2)!r}")
        check(toasts.buttons[message] and toasts.buttons[message][0].startswith("Choose Folder"),
              f"the toast should offer Choose Folder…, it has {toasts.buttons[message]}")
        check(not os.listdir(folder), f"files appeared in the read-only folder: {os.listdir(folder)}")
        check(toasts.press is None, "the toast's Choose Folder… was not pressed")
        elsewhere = os.path.join(documents, f"{ACCESSION}-report-again.pdf")
        save_as(app, window, "Export Report", elsewhere)
        message = toasts.wait_for("the toast 'Report saved to …-again.pdf'",
                                  lambda t: t.endswith("-again.pdf"), timeout=60)
        check(os.path.getsize(elsewhere) > 1000, f"{elsewhere} was not written")
        log("Choose Folder… saved it elsewhere")
    finally:
        undo()

    # the window still reviews: a digit relabels the selected cell
    left, total = window.left()
    focus(app, window.title)
    app.key("3")
    window.wait_left(left - 1, total, "a relabel after the failed export")
    log("the window still relabels")


def report_preferences(app, window):
    """The preferences' Report page shows the paper size the report was made with."""
    focus(app, window.title)
    app.key("ctrl+comma")
    tab = app.dialog("page tab", "Report")
    do_action(tab)
    app.dialog("label", "Case Report (PDF)")
    app.dialog("label", "Laboratory name")
    paper = app.dialog("label", re.compile(r"^(A4|US Letter)$"), timeout=10)
    # the row shows the chosen item only: the list of the others is made when it opens
    check(name_of(paper) == "US Letter", f"the paper size row reads {name_of(paper)!r}")
    log("the preferences' Report page shows US Letter")
    screenshot("export-3-preferences")
    app.key("Escape")


def main():
    for tool in ("pdftotext", "pdfinfo"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} is not installed (Debian: poppler-utils)", flush=True)
            sys.exit(SKIP)
    fields = [os.path.abspath(os.path.join(SAMPLES, f)) for f in FIELDS]
    for field in fields:
        check(os.path.isfile(field), f"{field} is missing")
    db = os.path.join(TMP, "export.db")
    folder, env = write_settings()

    def body(app):
        toasts = Toasts(app)
        window = ReviewWindow(app, ACCESSION)
        n_cells = window.wait_analysed(len(fields))
        check(n_cells >= 1, "the sample fields gave no cell")
        toasts.wait_for("the toast 'Analysis finished: …'",
                        lambda t: t.startswith("Analysis finished"))
        export(app, window, folder, toasts)
        failed_export(app, window, folder, toasts)
        report_preferences(app, window)

    run_app(["--db", db, "--case", ACCESSION] + fields, env, "export", body)


if __name__ == "__main__":
    sys.exit(run(main))
