#!/usr/bin/python3
"""The reference cells shipped beside the cell-type model (issue 30): what `learn`'s guard
checks a candidate against, so that a lab's learning cannot silently cost the model
what it knew.

    build-reference-sheet.py TRAIN_CELL_SET EXCLUDE_DIR[,...] OUT_DIR [PER_CLASS]

(data/models/celltype-reference: EXCLUDE_DIR the replay set of the learning curve,
/work/runs/learn/replay, 20 per class; data/models/celltype-replay, the cells `learn`
replays by default: EXCLUDE_DIR that replay set and the reference sheet, 24 per class.)

Takes PER_CLASS (20) cells of every class folder of TRAIN_CELL_SET (the set
scripts/build-celltype-set.sh makes; the cell-type model was trained on it), spread over
the sources each class has (the file name's prefix up to the first '-', and wbc-seg's
dataset), evenly by sorted name within a source, leaving out any file whose name is in an
EXCLUDE_DIR (class folders, or a sheet: its sheet.csv's sources) and pictures over 128 px. Writes OUT_DIR/sheet.png (every cell
at its own size in a 128 px slot, one row per class) and OUT_DIR/sheet.csv (x, y, width,
height, class, source file) with ImageMagick's convert. Deterministic: no random draw.
"""
import os
import subprocess
import sys

SLOT = 128


def size_of(path):
    """A PNG's width and height from its header (every crop of the set is a PNG); other
    files through ImageMagick's identify."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    out = subprocess.run(["identify", "-format", "%w %h", path], capture_output=True,
                         text=True, check=True).stdout.split()
    return int(out[0]), int(out[1])


def source_of(name, path):
    real = os.path.realpath(path)
    if "wbc-seg" in real:
        return "wbcseg-" + real.split(os.sep)[-3]
    return name.split("-", 1)[0]


def main(argv):
    if len(argv) not in (4, 5):
        sys.exit(__doc__)
    train, exclude_dir, out = argv[1], argv[2], argv[3]
    per_class = int(argv[4]) if len(argv) == 5 else 20
    excluded = set()
    for one in exclude_dir.split(","):
        sheet = os.path.join(one, "sheet.csv")
        if os.path.exists(sheet):
            with open(sheet) as f:
                excluded.update(line.rstrip("\n").split(",", 5)[5] for line in list(f)[1:])
            continue
        for root, _, files in os.walk(one):
            excluded.update(files)
    classes = sorted(c for c in os.listdir(train) if os.path.isdir(os.path.join(train, c))
                     and c != "wbc")
    rows = []
    for c in classes:
        by_source = {}
        for name in sorted(os.listdir(os.path.join(train, c))):
            path = os.path.join(train, c, name)
            if name in excluded:
                continue
            w, h = size_of(path)
            if w > SLOT or h > SLOT:
                continue
            by_source.setdefault(source_of(name, path), []).append((name, path, w, h))
        # share the row among the sources as evenly as they allow
        sources = sorted(by_source)
        take = {s: 0 for s in sources}
        left = per_class
        while left > 0 and any(take[s] < len(by_source[s]) for s in sources):
            for s in sources:
                if left > 0 and take[s] < len(by_source[s]):
                    take[s] += 1
                    left -= 1
        picked = []
        for s in sources:
            items, k = by_source[s], take[s]
            picked += [items[(i * len(items)) // k] for i in range(k)]
        rows.append((c, picked))
        print("%s: %s" % (c, ", ".join("%s %d" % (s, take[s]) for s in sources if take[s])))
    os.makedirs(out, exist_ok=True)
    width = SLOT * max(len(p) for _, p in rows)
    height = SLOT * len(rows)
    args = ["convert", "-size", "%dx%d" % (width, height), "xc:white"]
    lines = ["x,y,width,height,class,source"]
    for r, (c, picked) in enumerate(rows):
        for i, (name, path, w, h) in enumerate(picked):
            x, y = i * SLOT, r * SLOT
            args += [path, "-geometry", "+%d+%d" % (x, y), "-composite"]
            lines.append("%d,%d,%d,%d,%s,%s" % (x, y, w, h, c, name))
    args += ["-strip", "-define", "png:compression-level=9", os.path.join(out, "sheet.png")]
    subprocess.run(args, check=True)
    with open(os.path.join(out, "sheet.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %s: %d cells" % (out, len(lines) - 1))


if __name__ == "__main__":
    main(sys.argv)
