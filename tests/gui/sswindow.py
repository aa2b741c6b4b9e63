"""What the GUI tests read in Smearscope's main window, by accessible role and name."""

import re

from ssgui import Atspi, check, children, find_all, name_of, wait_until

# the store's class names in key order (key 1 is CLASSES[0]) and the window's names
CLASSES = ["lymphoblast", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil",
           "other", "not_a_cell"]
DISPLAY = ["Lymphoblast", "Lymphocyte", "Neutrophil", "Monocyte", "Eosinophil", "Basophil",
           "Other", "Not a cell"]

LEFT_TO_REVIEW = re.compile(r"^(\d+) of (\d+) cells? left to review$")
ALL_REVIEWED = re.compile(r"^All (\d+) cells? reviewed$")
SUBTITLE = re.compile(LEFT_TO_REVIEW.pattern + "|" + ALL_REVIEWED.pattern)
FIELD_STRIP_ITEM = re.compile(r"^Field (\d+), (\d+) cells?$")


def enabled(node):
    # GTK 4.8 sets "sensitive" on an enabled widget, not "enabled"
    return node.get_state_set().contains(Atspi.StateType.SENSITIVE)


class ReviewWindow:
    """The main window with a case open."""

    def __init__(self, app, accession, timeout=60.0):
        self.app = app
        self.title = f"Case {accession}"
        self.frame = app.main_window(self.title, timeout)
        app.focus_window(self.title)
        self.subtitle = app.find("label", SUBTITLE, timeout)
        self.sign_button = app.find("push button", re.compile(r"^Sign Off…?$"))

    def subtitle_text(self):
        return name_of(self.subtitle)

    def left(self):
        """(cells left to review, cells) as the subtitle says."""
        text = self.subtitle_text()
        m = LEFT_TO_REVIEW.match(text)
        if m:
            return int(m.group(1)), int(m.group(2))
        m = ALL_REVIEWED.match(text)
        check(m, f"the window's subtitle reads {text!r}")
        return 0, int(m.group(1))

    def wait_left(self, left, total, what, timeout=10.0):
        wait_until(lambda: self.left() == (left, total), timeout,
                   f"{what} to show: {left} of {total} cells left (subtitle: "
                   f"{self.subtitle_text()!r})")

    def wait_analysed(self, n_fields, timeout=120.0):
        """The number of cells once the analysis of n_fields fields has finished: the
        Sign Off button is enabled again and the field strip shows every field."""
        wait_until(lambda: enabled(self.sign_button), timeout, "the analysis to finish "
                   "(the Sign Off button to be enabled)")
        strip = wait_until(lambda: len(self.app.find_all("panel", FIELD_STRIP_ITEM)) == n_fields
                           and self.app.find_all("panel", FIELD_STRIP_ITEM), 10,
                           f"{n_fields} fields in the field strip")
        in_fields = sum(int(FIELD_STRIP_ITEM.match(name_of(n)).group(2)) for n in strip)
        left, total = self.left()
        check(left == total == in_fields, f"after the analysis the subtitle reads "
              f"{self.subtitle_text()!r} and the fields hold {in_fields} cells")
        return total

    def tiles(self):
        """(accessible name, selected) of every tile of the gallery, in order."""
        table = self.app.find("table", "Cell gallery")
        tiles = []
        for cell in children(table):
            inner = [name_of(c) for c in children(cell)]
            selected = cell.get_state_set().contains(Atspi.StateType.SELECTED)
            tiles.append((inner[0] if inner else "", selected))
        return tiles

    def selected_tile(self):
        selected = [name for name, sel in self.tiles() if sel]
        check(len(selected) == 1, f"one cell should be selected in the gallery: {selected}")
        return selected[0]


TILE_PERCENT = re.compile(r"^[^,]+, (\d+) percent, ")


def check_queue_order(window):
    """The gallery shows the review queue in its order, as the selection walks it: the
    cell selected first, then unsure cells before the others, each group least certain
    first (a tile with no percent, a call made by size, is passed over in that)."""
    tiles = window.tiles()
    check(tiles and tiles[0][1], f"the first tile is not the cell selected: {tiles}")
    keys = []
    for name, _ in tiles:
        m = TILE_PERCENT.match(name)
        keys.append((0 if "unsure" in name else 1, int(m.group(1)) if m else None))
    groups = [g for g, _ in keys]
    check(groups == sorted(groups), f"a sure cell before an unsure one in the queue: {tiles}")
    for group in (0, 1):
        percents = [p for g, p in keys if g == group and p is not None]
        check(percents == sorted(percents), f"the queue is not least certain first: {tiles}")


def tile_class(tile_name):
    """The class index a tile's name ("Lymphocyte, 52 percent, unsure") gives."""
    display = tile_name.split(",")[0]
    check(display in DISPLAY, f"a gallery tile reads {tile_name!r}")
    return DISPLAY.index(display)


ROW = re.compile(r"^Key (\d), ([^:]+): (?:no cells|(\d+)(?: cells?)?,)")


def read_count_panel(app):
    """The count panel as a screen reader reads it: {"counts": {class: n}} from each row's
    name ("Key 3, Neutrophil: 1 cell, 25.0 percent"), {"shown": {class: n}} from the number
    label the row shows, the counted total and the blast line."""
    panel = app.find("panel", "Cell counts")
    counts, shown, total, blast = {}, {}, None, None
    for node in find_all(panel):
        role, name = node.get_role_name(), name_of(node)
        if role == "list item" and name.startswith("Key "):
            m = ROW.match(name)
            check(m, f"a count row reads {name!r}")
            cls = CLASSES[int(m.group(1)) - 1]
            check(m.group(2) == DISPLAY[int(m.group(1)) - 1], f"a count row reads {name!r}")
            counts[cls] = int(m.group(3) or 0)
            box = next(children(node), None)
            numbers = [name_of(n) for n in children(box) if re.fullmatch(r"\d+", name_of(n))]
            shown[cls] = int(numbers[-1]) if numbers else None
        elif role == "list item" and name.startswith("Counted white cells: "):
            total = int(name.rsplit(" ", 1)[1])
        elif role == "label" and name.startswith("Blasts "):
            blast = name
    check(sorted(counts) == sorted(CLASSES), f"count rows for {sorted(counts)}")
    return {"counts": counts, "shown": shown, "total": total, "blast": blast}
