"""Bad input in the real window: a clear message, and the rest keeps working (issue 26).

1. Unreadable images: a case opened on a good BCCD field, a truncated JPEG (its first
   2 KB) and a text file named .png. Each bad file gets a toast naming it and saying it
   was not analysed (and why); the good field is analysed and shown; a digit key still
   relabels a cell. The store holds the good field only.
2. A damaged store (random bytes; a real store cut in half) as --db: the window opens
   on "The Case Store Cannot Be Opened" with the reason, the application keeps running
   and quits cleanly, and the file is left byte for byte as it was.
3. No model (SMEARSCOPE_MODELS an empty folder): the window says no cell-type model is
   installed, the cells are found and shown as "Other", and a digit still relabels one.

A locked store (another process in a write transaction) is not tried: the store waits
its busy timeout, 30 s (DEFAULT_BUSY_TIMEOUT_MS in src/store/ss-store.c), and neither
the application's options nor its environment can shorten it.
"""

import hashlib
import os
import re
import sys
import time

from ssgui import (TMP, Toasts, bccd_field, check, cli, log, name_of, run, run_app,
                   screenshot, is_visible)
from sswindow import DISPLAY, ReviewWindow, tile_class

# BCCD val-split fields; each holds one or two white cells
GOOD_FIELD = "BloodImage_00193.jpg"
NOT_ANALYSED = "{} was not analysed: "
NO_MODEL = re.compile(r"^No cell-type model is installed in (.+)\. Cells are found and "
                      r"outlined but left as “Other”\.$")
STORE_PAGE_TITLE = "The Case Store Cannot Be Opened"


def relabel_still_works(app, window, n_cells, key=None):
    """A digit relabels the selected cell: the subtitle's count drops by one and its
    tile reads the new class, reviewed. Returns the class index given."""
    app.focus_window(window.title)
    first = window.selected_tile()
    new_class = (2 if tile_class(first) != 2 else 3) if key is None else int(key) - 1
    log(f"relabel {first!r} with key {new_class + 1}")
    app.key(str(new_class + 1))
    window.wait_left(n_cells - 1, n_cells, f"the relabel (key {new_class + 1})")
    relabelled = [t for t, _ in window.tiles()
                  if t.startswith(DISPLAY[new_class] + ",") and t.endswith(", reviewed")]
    check(relabelled, f"after key {new_class + 1} no tile reads "
          f"'{DISPLAY[new_class]}, …, reviewed': {window.tiles()}")
    return new_class


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# --- 1. unreadable images -------------------------------------------------------------

def unreadable_images(good):
    db = os.path.join(TMP, "images.db")
    truncated = os.path.join(TMP, "TRUNCATED.jpg")
    with open(good, "rb") as f:
        data = f.read()
    check(len(data) > 4096, f"{good} is too small to cut")
    with open(truncated, "wb") as f:
        f.write(data[:2048])
    text = os.path.join(TMP, "NOTANIMAGE.png")
    with open(text, "w") as f:
        f.write("This is a text file, not a picture of a blood smear.\n")
    # the good field again under another name: the same picture, its cells counted once
    same = os.path.join(TMP, "SAME PICTURE.jpg")
    with open(same, "wb") as f:
        f.write(data)

    def body(app):
        toasts = Toasts(app)
        window = ReviewWindow(app, "ERR-1")
        n_cells = window.wait_analysed(1)
        log(f"the good field was analysed: {n_cells} cells")
        for bad in (truncated, text):
            base = os.path.basename(bad)
            prefix = NOT_ANALYSED.format(base)
            message = toasts.wait_for(f"a toast saying {prefix!r}…",
                                      lambda t, p=prefix: t.startswith(p))
            reason = message[len(prefix):].strip()
            check(len(reason) > len(bad) + 5,
                  f"the toast for {base} gives no reason: {message!r}")
        toasts.wait_for("a toast saying the renamed copy is the same picture, not added",
                        lambda t: t.startswith("SAME PICTURE.jpg was not added: the same "
                                               "picture is already a field of this case"))
        finished = toasts.wait_for("the toast 'Analysis finished: …'",
                                   lambda t: t.startswith("Analysis finished:"))
        check(re.search(r"\b1 fields?\b", finished),
              f"the analysis should report 1 field: {finished!r}")
        good_base = os.path.basename(good)
        check(not any(t.startswith(good_base) for t in toasts.seen),
              f"a toast about the good field: {toasts.seen}")
        screenshot("errors-1-unreadable-images")
        relabel_still_works(app, window, n_cells)

    run_app(["--db", db, "--case", "ERR-1", good, truncated, text, same], None, "unreadable",
            body)

    shown = cli("case", "show", "ERR-1", "--db", db, "--json")
    paths = [image["path"] for image in shown["images"]]
    expected = [os.path.abspath(good)]
    check(paths == expected,
          f"the store holds images {paths}, expected the good field only: {expected}")
    log("the store holds the good field only")


# --- 2. a damaged store -----------------------------------------------------------------

def damaged_store(good, path, what):
    before = sha256(path)
    size = os.path.getsize(path)
    others = set(os.listdir(os.path.dirname(path)))

    def body(app):
        app.main_window("Smearscope")
        title = app.find("label", STORE_PAGE_TITLE, timeout=20)
        check(is_visible(title), f"{what}: the title {STORE_PAGE_TITLE!r} is not visible")
        # the status page's description: the store, and why it cannot be opened
        reason = re.compile(r"^The case store cannot be opened: (.+)$")
        description = app.find("label", reason, timeout=5)
        check(is_visible(description), f"{what}: the description is not visible")
        why = reason.match(name_of(description)).group(1)
        log(f"{what}: the window says {name_of(description)!r}")
        check(len(why) > 10, f"{what}: no reason given: {name_of(description)!r}")
        check(path in why, f"{what}: the message does not name the store: {name_of(description)!r}")
        screenshot(f"errors-2-{what.replace(' ', '-')}")
        # the application goes on running: no case, no crash
        app.focus_window("Smearscope")
        app.key("Escape")
        time.sleep(0.5)
        check(app.process.poll() is None,
              f"{what}: the application exited ({app.process.returncode}):\n{app.output()}")
        app.find("label", STORE_PAGE_TITLE, timeout=5)
        return why

    why = run_app(["--db", path, "--case", "ERR-2", good], None, f"store-{what.replace(' ', '-')}",
                  body)
    after = sha256(path)
    check(os.path.getsize(path) == size and after == before,
          f"{what}: the store file changed: {size} bytes, SHA-256 {before} before; "
          f"{os.path.getsize(path)} bytes, SHA-256 {after} after")
    new_files = sorted(set(os.listdir(os.path.dirname(path))) - others)
    check(not new_files, f"{what}: files appeared beside the store: {new_files}")
    log(f"{what}: the file is unchanged ({why})")


def damaged_stores(good):
    folder = os.path.join(TMP, "stores")
    os.makedirs(folder, exist_ok=True)
    noise = os.path.join(folder, "noise.db")
    with open(noise, "wb") as f:
        f.write(b"\x00not SQLite\x00" + os.urandom(8192))
    damaged_store(good, noise, "random bytes")

    real = os.path.join(TMP, "real.db")
    cli("case", "new", "ERR-2-REAL", "--db", real, json_output=False)
    cut = os.path.join(folder, "cut.db")
    with open(real, "rb") as f:
        data = f.read()
    check(len(data) >= 8192, f"a new store of {len(data)} bytes is too small to cut")
    with open(cut, "wb") as f:
        f.write(data[:len(data) // 2])
    damaged_store(good, cut, "truncated store")


# --- 3. no model ------------------------------------------------------------------------

def missing_model(good):
    db = os.path.join(TMP, "nomodel.db")
    models = os.path.join(TMP, "no-models")
    os.makedirs(models, exist_ok=True)

    def body(app):
        toasts = Toasts(app)
        window = ReviewWindow(app, "ERR-3")
        # said as the analysis starts, before its end
        message = toasts.wait_for("a toast saying no cell-type model is installed",
                                  lambda t: NO_MODEL.match(t))
        n_cells = window.wait_analysed(1)
        check(NO_MODEL.match(message).group(1) == models,
              f"the toast names another folder than {models}: {message!r}")
        tiles = [t for t, _ in window.tiles()]
        check(len(tiles) == n_cells and all(t.startswith("Other, not typed,") for t in tiles),
              f"without a model every cell should read 'Other, not typed, …': {tiles}")
        screenshot("errors-3-no-model")
        return relabel_still_works(app, window, n_cells, key="3"), n_cells

    new_class, n_cells = run_app(["--db", db, "--case", "ERR-3", good],
                                 {"SMEARSCOPE_MODELS": models}, "no-model", body)
    shown = cli("case", "show", "ERR-3", "--db", db, "--json")
    cells = [c for image in shown["images"] for c in image["cells"]]
    check(len(cells) == n_cells, f"the store holds {len(cells)} cells, the window showed {n_cells}")
    predicted = sorted({c["predicted_class"] for c in cells})
    check(predicted == ["other"],
          f"the store's predicted classes are {predicted}, expected ['other'] (no model)")
    classes = sorted(c["class"] for c in cells)
    expected = sorted(["neutrophil"] + ["other"] * (n_cells - 1))
    check(classes == expected, f"after the relabel the store holds {classes}, expected {expected}")


def main():
    good = bccd_field(GOOD_FIELD)
    unreadable_images(good)
    damaged_stores(good)
    missing_model(good)


if __name__ == "__main__":
    sys.exit(run(main))
