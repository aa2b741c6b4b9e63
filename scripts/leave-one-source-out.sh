#!/bin/sh
# Leave one source out (issue 27): for each source of the cell-type set, train without it
# and score on its validation crops (scripts/held-out-score.py): right, set aside as
# unsure, right among the rest, confident wrong. SET is OUT of
# scripts/build-celltype-set.sh (with PBC_FRAMING=cells); TRAIN_OPTIONS are passed to
# `smearscope-cli train` after the fixed part (architecture, classes, map, output).
# Everything is written under WORK, outside git; the table goes to WORK/table.tsv.
# Usage: scripts/leave-one-source-out.sh BUILD SET WORK [SOURCE...] -- [TRAIN_OPTIONS...]
set -eu
build=$1; set=$2; work=$3; shift 3
here=$(cd "$(dirname "$0")/.." && pwd)
cli="$here/$build/src/cli/smearscope-cli"
sources=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do sources="$sources $1"; shift; done
[ $# -gt 0 ] && shift
[ -n "$sources" ] || sources="pbc wbcseg-dataset1 wbcseg-dataset2 aria bccd"
mkdir -p "$work"
for source in $sources; do
  dir="$work/$source"
  rm -rf "$dir/train"
  # the training set without the source: a tree of links to the rest
  for folder in "$set"/train/*/; do
    cls=$(basename "$folder")
    mkdir -p "$dir/train/$cls"
    for f in "$folder"*; do
      [ -e "$f" ] || continue
      case $(basename "$f") in "$source"-*) continue ;; esac
      ln -s "$(readlink -f "$f")" "$dir/train/$cls/$(basename "$f")"
    done
  done
  "$cli" train --arch resnet18 --width 16 --input 128 --data "$dir/train" \
    --classes lymphoblast,lymphocyte,neutrophil,monocyte,eosinophil,basophil,other,not_a_cell \
    --map 'wbc=!not_a_cell' --out "$dir/model.ssm" "$@" > "$dir/train.log" 2>&1
  # its validation crops: typed sources by class folder, BCCD's white cells by eye
  case $source in
    bccd) crops=$(ls -d "$set"/val/wbc/bccd-*) ;;
    *) crops=$(find "$set"/val-by-source/*/ -name "$source-*" | sort) ;;
  esac
  # shellcheck disable=SC2086
  "$cli" classify --json "$dir/model.ssm" $crops > "$dir/held-out.json"
  python3 "$here/scripts/held-out-score.py" "$dir/held-out.json" --name "$source" | tee -a "$work/table.tsv"
done
