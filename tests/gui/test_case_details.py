"""A case's details edited in the real window (Case Details…, win.case-details).

A case of the two fields in data/samples is analysed; it has no patient reference. Then:

1. Main menu > Export Data > Result Message (HL7)…: the toast says HL7 needs a patient
   reference and offers "Case Details…"; its button opens the Case Details dialog,
   which shows the accession and offers Save.
2. A patient reference with letters outside ASCII is typed into it (xdotool, as a
   keyboard would) and Return saves it: `smearscope-cli case show --json` has it, the
   dialog has gone, and the HL7 export from the window now writes a message that
   python3-hl7 parses, with the reference in PID-3.
3. Case Details is opened from the main menu, and the case is signed behind the
   window's back (smearscope-cli signoff): the window hears it by itself (its header
   says "Signed by", live updates of issue 31); in the dialog still open, a changed
   reference and Return: the dialog shows the store's refusal and stays open; the store
   keeps the reference of step 2.
4. The window started again on the signed case: Ctrl+I opens Case Details, which says
   the case is signed and must be reopened, offers Close and no Save; typing and Return
   change nothing in the store. The case's title in the header bar opens it too.
5. Main menu > Reopen Case…: Reopen is not offered until a reason is typed; typed and
   Return: the store has the case open again, with the reopening and its reason.
"""

import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

from ssgui import (SKIP, Toasts, TMP, check, children, cli, do_action, find_all, focus,
                   focus_dialog, is_visible, log, name_of, open_menu_item, run, run_app,
                   save_as, screenshot, wait_until)
from sswindow import ReviewWindow, enabled

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "..", "data", "samples")
FIELDS = ["BloodImage_00001.jpg", "BloodImage_00003.jpg"]
ACCESSION = "DET-3"
PATIENT = "Łódź-Núñez-7"
SIGNER = "Dr Müller"
DIALOG = "Case Details"
SAVE = re.compile(r"^Save details")


def stored(db, field="patient"):
    return cli("case", "show", ACCESSION, "--db", db, "--json")[field]


def dialog_buttons(app, pattern):
    """The visible push buttons matching pattern in the windows other than the main one
    (asked only while the dialog is open, see App.main_window)."""
    found = []
    for top in children(app.accessible):
        if name_of(top) == name_of(app.root):
            continue
        found += find_all(top, "push button", pattern, visible=True)
    return found


def type_text(text):
    """Type text as a person would. A letter outside ASCII goes in through GTK's own
    Unicode entry (Ctrl+Shift+U, its hex code, space): xdotool would remap a spare key
    for it and back, and now and then the window read the key before the new map and the
    letter was lost (seen: 'Łdź-Núñez-7')."""
    for ch in text:
        if ord(ch) < 128:
            subprocess.run(["xdotool", "type", "--delay", "30", ch], check=True, timeout=60)
        else:
            subprocess.run(["xdotool", "key", "--delay", "30", "ctrl+shift+u"], check=True,
                           timeout=60)
            subprocess.run(["xdotool", "type", "--delay", "30", "%x" % ord(ch)], check=True,
                           timeout=60)
            subprocess.run(["xdotool", "key", "--delay", "30", "space"], check=True, timeout=60)
    time.sleep(0.3)


def close_dialog(app, title):
    """Escape, then the main window titled title again (not looked for through the
    application's window list while the dialog goes: see App.main_window)."""
    app.key("Escape")
    time.sleep(0.5)
    focus(app, title)


def hl7_refused_then_details(app, window, folder, toasts):
    hl7_path = os.path.join(folder, f"{ACCESSION}-result.hl7")
    open_menu_item(app, window, "Export Data", "Result Message (HL7)…")
    save_as(app, window, "Export Result Message (HL7)")
    toasts.press = "Case Details"
    message = toasts.wait_for("the toast about the missing patient reference",
                              lambda t: "patient reference" in t)
    check(message == f"HL7 needs a patient reference; case {ACCESSION} has none. Add it in "
          "Case Details.", f"the toast reads {message!r}")
    check(toasts.press is None, f"the toast had no Case Details… button: {toasts.buttons[message]}")
    check(not os.path.exists(hl7_path), f"{hl7_path} was written without a patient reference")
    # the dialog the button opened: the accession shown, Save offered
    app.dialog("label", DIALOG)
    app.dialog("label", ACCESSION)
    check(dialog_buttons(app, SAVE), "Case Details offers no Save")
    log("the toast's button opened Case Details")
    return hl7_path


def save_patient(app, window, db):
    focus_dialog(app, DIALOG)
    type_text(PATIENT)
    screenshot("case-details-1-typed")
    app.key("Return")
    time.sleep(0.5)
    focus(app, window.title)
    wait_until(lambda: stored(db) == PATIENT, 10,
               f"the store to hold the patient reference {PATIENT!r} (it has {stored(db)!r})")
    log(f"the store holds the patient reference {PATIENT!r}")


def export_hl7(app, window, hl7_path, toasts):
    import hl7
    open_menu_item(app, window, "Export Data", "Result Message (HL7)…")
    save_as(app, window, "Export Result Message (HL7)")
    message = toasts.wait_for("the toast 'Result message saved to …'",
                              lambda t: t.startswith("Result message saved to"), timeout=60)
    check(message == f"Result message saved to {os.path.basename(hl7_path)}",
          f"the toast reads {message!r}")
    with open(hl7_path, encoding="utf-8", newline="") as f:
        text = f.read()
    parsed = hl7.parse(text)
    check(str(parsed.segment("MSH")[9]) == "ORU^R01^ORU_R01", f"MSH-9 of {hl7_path}")
    patient = parsed.unescape(str(parsed.segment("PID")[3][0][0]))
    check(patient == PATIENT, f"PID-3 of {hl7_path} reads {patient!r}, expected {PATIENT!r}")
    log("the HL7 message parses and names the patient")


def refused_when_signed_behind(app, window, db):
    open_menu_item(app, window, "Case Details…")
    app.dialog("label", DIALOG)
    cli("signoff", "--case", ACCESSION, "--user", SIGNER, "--db", db, json_output=False)
    app.find("label", re.compile(r"^Signed by "), timeout=10)
    log("the window heard the sign-off by itself")
    focus_dialog(app, DIALOG)
    app.key("End")
    type_text("X9")
    app.key("Return")
    error = app.dialog("label", re.compile(r"^The details were not saved: .*signed"), timeout=10)
    log(f"the dialog says: {name_of(error)!r}")
    check(dialog_buttons(app, SAVE), "the dialog closed after the store refused")
    screenshot("case-details-2-refused")
    close_dialog(app, window.title)
    check(stored(db) == PATIENT, f"a signed case's patient reference changed: {stored(db)!r}")


def read_only_when_signed(app, db):
    title = f"Case {ACCESSION}"
    app.main_window(title, 60)
    focus(app, title)
    app.find("label", re.compile(r"^Signed by "))
    app.key("ctrl+i")
    notice = app.dialog("label", re.compile(r"is signed by .*Reopen the case first"))
    log(f"the dialog says: {name_of(notice)!r}")
    check(is_visible(notice), "the signed notice is not shown")
    # whatever its name, no button but Close: Save is not offered
    buttons = [name_of(b) for b in dialog_buttons(app, None)]
    check(buttons and all(re.match(r"^_?Close", n) for n in buttons),
          f"a signed case's dialog should offer Close only, it has {buttons}")
    screenshot("case-details-3-signed")
    focus_dialog(app, DIALOG)
    type_text("Z")
    app.key("Return")
    time.sleep(1.0)
    check(stored(db) == PATIENT, f"a signed case's patient reference changed: {stored(db)!r}")
    close_dialog(app, title)
    log("a signed case's details cannot be saved")

    # the case's title in the header bar opens them too
    do_action(app.find("push button", DIALOG))
    app.dialog("label", re.compile(r"is signed by .*Reopen the case first"))
    close_dialog(app, title)
    log("the header's title opened Case Details")

    # reopened from the main menu: Reopen is offered only once a reason is typed, and
    # the reason is recorded with the reopening
    open_menu_item(app, SimpleNamespace(title=title), "Reopen Case…")
    reopen = app.dialog("push button", re.compile(r"^_?Reopen"))
    check(not enabled(reopen), "Reopen is offered with no reason given")
    focus_dialog(app, f"Reopen Case {ACCESSION}?")
    type_text("recount")
    wait_until(lambda: enabled(reopen), 5, "Reopen to be offered once a reason is typed")
    screenshot("case-details-4-reopen")
    app.key("Return")
    wait_until(lambda: stored(db, "status") == "open", 10, "the store to say the case is open")
    events = stored(db, "events")
    check(events[-1]["kind"] == "reopened" and events[-1]["reason"] == "recount",
          f"the reopening and its reason recorded: {events[-1]}")
    time.sleep(0.5)
    focus(app, title)
    log("reopened from the window, the reason recorded")


def main():
    try:
        import hl7  # noqa: F401
    except ImportError:
        print("SKIP: /usr/bin/python3 has no hl7 module (Debian: python3-hl7)", flush=True)
        sys.exit(SKIP)
    fields = [os.path.abspath(os.path.join(SAMPLES, f)) for f in FIELDS]
    for field in fields:
        check(os.path.isfile(field), f"{field} is missing")
    db = os.path.join(TMP, "details.db")
    folder = os.path.join(TMP, "exports")
    os.makedirs(folder, exist_ok=True)
    # the save dialog starts in the documents folder (user-dirs.dirs)
    config = os.environ["XDG_CONFIG_HOME"]
    with open(os.path.join(config, "user-dirs.dirs"), "w") as f:
        f.write(f'XDG_DOCUMENTS_DIR="{folder}"\n')

    def edit(app):
        toasts = Toasts(app)
        window = ReviewWindow(app, ACCESSION)
        check(window.wait_analysed(len(fields)) >= 1, "the sample fields gave no cell")
        toasts.wait_for("the toast 'Analysis finished: …'",
                        lambda t: t.startswith("Analysis finished"))
        check(stored(db) is None, f"the new case has a patient reference: {stored(db)!r}")
        hl7_path = hl7_refused_then_details(app, window, folder, toasts)
        save_patient(app, window, db)
        export_hl7(app, window, hl7_path, toasts)
        refused_when_signed_behind(app, window, db)

    run_app(["--db", db, "--case", ACCESSION] + fields, {}, "details", edit)
    run_app(["--db", db, "--case", ACCESSION], {}, "details-signed",
            lambda app: read_only_when_signed(app, db))


if __name__ == "__main__":
    sys.exit(run(main))
