"""A narrow window keeps the counts and the review queue, in the real window.

A window on half of a 1366 px laptop screen is 683 px wide; the case list, the field's
tools, the counts and the review queue do not fit side by side. The case list folds
away below 1100 px and the tools scroll, so that the counts and the queue are never cut
off by the window's edge. Opens the README's sample fields at the window's first size,
narrows the window to 683 px (xdotool, as a window manager would), checks that the case
list is gone (and its header button no longer pressed), that the count panel and the gallery lie wholly inside the window, and
that the keys still review (Space confirms the selected cell); widens it again and
checks that the case list is back; and that a case list shown with F9 while folded
stays shown when the window widens.
"""

import os
import subprocess
import sys

from ssgui import Atspi, TMP, check, extents, log, run, run_app, screenshot, wait_until
from sswindow import ReviewWindow

ACCESSION = "NARROW-1"
HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.normpath(os.path.join(HERE, "..", "..", "data", "samples"))


def resize(app, width, height):
    subprocess.run(["xdotool", "windowsize", "--sync", app.window_id, str(width), str(height)],
                   check=True, timeout=30)


def case_list_showing(app):
    return bool(app.find_all("list", "Cases", visible=True))


def case_list_button_pressed(app):
    button = app.find(None, "Show the case list")
    states = button.get_state_set()
    return states.contains(Atspi.StateType.PRESSED) or states.contains(Atspi.StateType.CHECKED)


def inside(app, node, what):
    """node's extents lie within the window's width and height."""
    x, y, w, h = extents(node)
    _, _, fw, fh = extents(app.root)
    check(x >= 0 and w > 0 and x + w <= fw and y + h <= fh,
          f"{what} at x {x}..{x + w}, y {y}..{y + h} lies outside the {fw} x {fh} window")


def main():
    fields = sorted(os.path.join(SAMPLES, n) for n in os.listdir(SAMPLES) if n.endswith(".jpg"))
    db = os.path.join(TMP, "narrow.db")

    def body(app):
        window = ReviewWindow(app, ACCESSION)
        n_cells = window.wait_analysed(len(fields))
        check(n_cells >= 2, f"the sample fields gave {n_cells} cells")
        wait_until(lambda: case_list_showing(app), 10, "the case list at the first size")
        check(case_list_button_pressed(app), "the case list shows, its button is not pressed")

        resize(app, 683, 700)
        wait_until(lambda: extents(app.root)[2] <= 700, 10, "the window to narrow")
        wait_until(lambda: not case_list_showing(app), 10,
                   "the case list to fold away in a 683 px window")
        inside(app, app.find("panel", "Cell counts"), "the count panel")
        inside(app, app.find("table", "Cell gallery"), "the cell gallery")
        wait_until(lambda: not case_list_button_pressed(app), 10,
                   "the case list's button to show it folded away")
        screenshot("narrow-683")
        log("683 px: the case list folded, the counts and the gallery inside the window")

        app.focus_window(window.title)
        app.key("space")
        window.wait_left(n_cells - 1, n_cells, "Space in the narrow window")

        resize(app, 1280, 800)
        wait_until(lambda: case_list_showing(app), 10,
                   "the case list to come back in a 1280 px window")
        inside(app, app.find("panel", "Cell counts"), "the count panel")
        check(case_list_button_pressed(app), "the case list is back, its button is not pressed")
        log("1280 px: the case list is back")

        # a choice made while folded holds: hidden (F9) at 1280 px, narrowed, shown
        # again with F9 at 683 px, widened: it stays shown
        app.focus_window(window.title)
        app.key("F9")
        wait_until(lambda: not case_list_showing(app), 10, "F9 to hide the case list")
        resize(app, 683, 700)
        wait_until(lambda: extents(app.root)[2] <= 700, 10, "the window to narrow again")
        app.focus_window(window.title)
        app.key("F9")
        wait_until(lambda: case_list_showing(app), 10, "F9 to show the folded case list")
        resize(app, 1280, 800)
        wait_until(lambda: extents(app.root)[2] >= 1200, 10, "the window to widen again")
        check(case_list_showing(app) and case_list_button_pressed(app),
              "the case list shown with F9 while folded is hidden again once the window widens")
        log("a case list shown while folded stays shown")

    run_app(["--db", db, "--case", ACCESSION, *fields], {}, "narrow", body)


if __name__ == "__main__":
    sys.exit(run(main))
