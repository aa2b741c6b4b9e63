"""The case server goes away under an open window, and comes back (issue 31).

Runs with tests/pg-cluster.sh around tests/gui/run-gui-test.sh: a throwaway PostgreSQL
cluster, SMEARSCOPE_TEST_DB its maintenance database, SMEARSCOPE_TEST_PG_CONTROL the
script that stops and starts it. A case of one sample field is analysed into the server
with smearscope-cli, and the window opens it. Then:

1. The server is stopped. The window keeps answering: every accessibility query over
   the next seconds returns within a second. The bar across the top says "The case base
   at HOST is not reachable. Retrying…" by itself (the live-update connection noticed).
2. A digit key (a relabel) while it is away: the window says "Your last change was not
   saved." in the bar, its count of cells left stays as it was.
3. The server is started again: the bar says "Reconnected …" by itself, and the same key
   now relabels the cell (the count moves); the store holds exactly that one correction,
   nothing of the refused one.
4. The server is stopped and the workstation started again, asked for the case: its
   window comes up at once and answers, saying "Waiting for the Case Base" (not
   blocked on the server, not given up for good), with New Case not offered; the server
   is started, the case opens by itself, and New Case is offered again.
"""

import os
import re
import subprocess
import sys
import time

from ssgui import SKIP, check, cli, log, name_of, run, run_app, screenshot, wait_until
from sswindow import ReviewWindow, enabled

HERE = os.path.dirname(os.path.abspath(__file__))
FIELD = os.path.join(HERE, "..", "..", "data", "samples", "BloodImage_00001.jpg")
# of this run: run-gui-test.sh tries a second X server when the first fails, and the
# cluster (made once around both tries) keeps the first try's case
ACCESSION = f"NET-{os.getpid()}"
AWAY = re.compile(r"^The case base at .+ is not reachable\. Retrying…")
NOT_SAVED = re.compile(AWAY.pattern + r" Your last change was not saved\.$")
BACK = re.compile(r"^Reconnected to the case base at ")


def control(action):
    subprocess.run([os.environ["SMEARSCOPE_TEST_PG_CONTROL"], action], check=True, timeout=120)


WAITING = re.compile(r"^Waiting for the Case Base$")


def answers_quickly(window, seconds, ask=None):
    """Ask the window for its subtitle (or ask()) again and again for seconds: each
    answer within a second (a window blocked on the server would not answer at all
    meanwhile)."""
    slowest = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.monotonic()
        (ask or window.subtitle_text)()
        slowest = max(slowest, time.monotonic() - start)
        time.sleep(0.1)
    log(f"the slowest accessibility answer while the server was away: {slowest:.3f} s")
    check(slowest < 1.0, f"the window took {slowest:.2f} s to answer while the server was away")


def server_away(app, db):
    window = ReviewWindow(app, ACCESSION)
    left, total = window.left()
    check(total > 0 and left == total, f"the case opens with {left} of {total} cells left")

    control("stop")
    log("the server is stopped")
    answers_quickly(window, 3.0)
    bar = app.find("label", AWAY, timeout=10)
    log(f"the bar says: {name_of(bar)!r}")
    screenshot("server-away-1")

    app.key("2")
    wait_until(lambda: NOT_SAVED.match(name_of(bar)), 5,
               f"the bar to say the change was not saved (it says {name_of(bar)!r})")
    answers_quickly(window, 1.0)
    check(window.left() == (left, total), f"a refused relabel moved the count: {window.left()}")
    log(f"the bar says: {name_of(bar)!r}")
    screenshot("server-away-2-refused")

    control("start")
    log("the server is started again")
    wait_until(lambda: BACK.match(name_of(bar)), 15,
               f"the bar to say reconnected (it says {name_of(bar)!r})")
    log(f"the bar says: {name_of(bar)!r}")
    screenshot("server-away-3-back")
    app.key("2")
    window.wait_left(left - 1, total, "the relabel after the server came back")
    history = cli("case", "history", ACCESSION, "--db", db, "--json")
    corrections = history["corrections"] if isinstance(history, dict) else history
    check(len(corrections) == 1, f"the store should hold one correction: {corrections}")
    log("the relabel made after the reconnection is stored, the refused one is not")


def start_while_away(app, started):
    """The window of an application started while the server is stopped."""
    log(f"the window was on the accessibility bus {time.monotonic() - started:.1f} s "
        "after the start")
    waiting = app.find("label", WAITING, timeout=10)
    page = app.find("label", re.compile(r"cannot reach the case server at .+tries again every "
                                        r"few seconds", re.S), timeout=5)
    log(f"the page says: {name_of(waiting)!r}: {name_of(page)!r}")
    answers_quickly(None, 3.0, lambda: name_of(waiting))
    new_case = app.find("push button", "New Case")
    check(not enabled(new_case), "New Case is offered while there is no case store")
    screenshot("server-away-4-start-while-away")
    control("start")
    log("the server is started again")
    window = ReviewWindow(app, ACCESSION, timeout=30)
    left, total = window.left()
    check(total > 0, f"the case opened once the server answered with {left} of {total} cells left")
    wait_until(lambda: enabled(app.find("push button", "New Case")), 5,
               "New Case to be offered once the store is open")
    log(f"the case opened by itself once the server answered: {left} of {total} cells left")


def main():
    db = os.environ.get("SMEARSCOPE_TEST_DB")
    if not db or not os.environ.get("SMEARSCOPE_TEST_PG_CONTROL"):
        print("SKIP: needs the throwaway PostgreSQL cluster (tests/pg-cluster.sh)", flush=True)
        sys.exit(SKIP)
    check(os.path.isfile(FIELD), f"{FIELD} is missing")
    cli("case", "new", ACCESSION, "--db", db, json_output=False)
    cli("analyze", "--case", ACCESSION, "--db", db, os.path.abspath(FIELD), json_output=False)
    run_app(["--db", db, "--case", ACCESSION], {}, "server-away", lambda app: server_away(app, db))
    control("stop")
    log("the server is stopped; the workstation starts")
    started = time.monotonic()
    run_app(["--db", db, "--case", ACCESSION], {}, "server-away-start",
            lambda app: start_while_away(app, started))


if __name__ == "__main__":
    sys.exit(run(main))
