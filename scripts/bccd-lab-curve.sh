#!/bin/sh
# A simulated lab with BCCD's camera (issues 27 and 30): the first N of BCCD train's white
# cells, typed by eye as a technician would correct them (data/labels/bccd-train-by-eye.csv,
# never BCCD val's; unclear ones left out), taught with `learn --data`, then BCCD val's 87
# fields through the whole analysis with whatever was offered (the model itself when
# nothing was), scored by scripts/bccd-coarse-eval.py against data/labels/bccd-val-coarse.csv.
#
#   [LEARN_ARGS="--camera-head ..."] bccd-lab-curve.sh CLI MODEL CELL_SET WORK REFERENCE REPLAY N...
#
# CELL_SET: the set scripts/build-celltype-set.sh makes (its train/wbc holds BCCD train's
# white cells as bccd-IMAGE-K.png). Run from anywhere; writes into WORK.
set -eu
[ $# -ge 7 ] || { sed -n '2,13p' "$0"; exit 2; }
CLI=$1 MODEL=$2 SET=$3 WORK=$4 REF=$5 REPLAY=$6
shift 6
HERE=$(cd "$(dirname "$0")/.." && pwd)
DATA=$HERE/../shared/datasets/bccd
[ -d "$DATA" ] || { echo "no $DATA" >&2; exit 77; }
mkdir -p "$WORK"
VAL=$(sed "s|^|$DATA/images/|; s|\$|.jpg|" "$DATA/val.txt")
for n in "$@"; do
  d=$WORK/cells-$n
  rm -rf "$d"
  tail -n +2 "$HERE/data/labels/bccd-train-by-eye.csv" | grep -v ',unclear$' | head -n "$n" |
    while IFS=, read -r crop type; do
      mkdir -p "$d/$type"
      ln -s "$SET/train/wbc/$crop" "$d/$type/$crop"
    done
  echo "== $n corrections"
  used=$MODEL
  # shellcheck disable=SC2086
  if "$CLI" learn --model "$MODEL" --data "$d" --reference "$REF" --replay "$REPLAY" \
       --out "$WORK/learned-$n.ssm" ${LEARN_ARGS:-}; then
    used=$WORK/learned-$n.ssm
  fi
  # shellcheck disable=SC2086
  "$CLI" analyze --model "$used" --json "$WORK/val-$n.json" $VAL >/dev/null 2>&1
  /usr/bin/python3 "$HERE/scripts/bccd-coarse-eval.py" "$HERE/data/labels/bccd-val-coarse.csv" \
    "$WORK/val-$n.json" | sed -n '2,5p'
done
