#!/bin/sh
# Build the cell-type training and validation sets (issue 12) from the shared data sets,
# as class folders of symlinks and crops, outside git. Every source keeps its own split:
#   pbc      train/ and val/ folders as they are (the label table maps erythroblast and ig
#            to other, platelet to not_a_cell)
#   wbc-seg  even ids -> train, odd ids -> val (the split the segmentation is tuned on)
#   aria-all the 2 most certain white cells the stain detector finds in each field:
#            early/pre/pro -> lymphoblast, benign (hematogones) -> lymphocyte; and 2
#            crops per field clear of every proposal (its red cells) -> not_a_cell
#   bccd     red cells (every 4th), platelets and 2 background crops per field, from
#            train.txt / val.txt -> not_a_cell; its white cells have no type and go to
#            wbc/, which training maps to "!not_a_cell" (any class but not_a_cell)
# OUT/val-by-source/{pbc,wbcseg,aria,bccd} holds the validation part again, per source.
# With PBC_FRAMING=cells, pbc's pictures are not linked whole: the white cell the stain
# detector finds nearest each picture's centre (PBC's label belongs to the cell in the
# middle; a neighbour cut by the edge is not it) is cropped as the analysis crops a
# field's cells (box squared + 15% per side), so that training sees cells framed as the
# workstation shows them to the model (docs/models.md, "Framing").
# Usage: [PBC_FRAMING=pictures|cells] scripts/build-celltype-set.sh OUT [BUILD]
set -eu
out=$1
build=${2:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=$here/../shared/datasets
cli="$here/$build/src/cli/smearscope-cli"
framing=${PBC_FRAMING:-pictures}
case $framing in
  pictures|cells) ;;
  *) echo "build-celltype-set.sh: PBC_FRAMING must be pictures or cells" >&2; exit 2 ;;
esac
rm -rf "$out"
for split in train val; do
  for cls in lymphoblast lymphocyte neutrophil monocyte eosinophil basophil other not_a_cell wbc; do
    mkdir -p "$out/$split/$cls"
  done
  # pbc: every picture linked (or its cell's crop moved) under the class the label table
  # gives its folder
  pbc=$shared/pbc/$split
  put="ln -s"
  if [ "$framing" = cells ]; then
    pbc="$out/tmp-pbc-$split"
    put=mv
    "$cli" cells --data "$shared/pbc/$split" --out "$pbc" --cell-diameter 100 --max-cells 1 --pick centre --size 128
  fi
  for folder in "$pbc"/*; do
    name=$(basename "$folder")
    case $name in
      erythroblast|ig) cls=other ;;
      platelet) cls=not_a_cell ;;
      *) cls=$name ;;
    esac
    for f in "$folder"/*; do $put "$f" "$out/$split/$cls/pbc-$name-$(basename "$f")"; done
  done
  [ "$framing" = pictures ] || rm -rf "$pbc"
  # wbc-seg: labels.csv id,class; even ids train, odd ids val
  for ds in dataset1 dataset2; do
    tail -n +2 "$shared/wbc-seg/$ds/labels.csv" | while IFS=, read -r id cls; do
      n=$(echo "$id" | sed 's/^0*//')
      n=${n:-0}
      if [ $((n % 2)) -eq 0 ]; then s=train; else s=val; fi
      [ "$s" = "$split" ] || continue
      ln -s "$shared/wbc-seg/$ds/images/$id.png" "$out/$split/$cls/wbcseg-$ds-$id.png"
    done
  done
  # aria-all: cells of the fields, under the field's class, then renamed to cell classes
  tmp="$out/tmp-aria-$split"
  "$cli" cells --data "$shared/aria-all/$split" --out "$tmp" --cell-diameter 30 --max-cells 2 --size 96 \
    --background 2
  for cls in early pre pro; do
    for f in "$tmp/$cls"/*; do mv "$f" "$out/$split/lymphoblast/aria-$cls-$(basename "$f")"; done
  done
  for f in "$tmp/benign"/*; do mv "$f" "$out/$split/lymphocyte/aria-benign-$(basename "$f")"; done
  for f in "$tmp/background"/*; do mv "$f" "$out/$split/not_a_cell/aria-background-$(basename "$f")"; done
  rm -rf "$tmp"
  # bccd: annotated red cells and platelets, and background, as not_a_cell
  tmp="$out/tmp-bccd-$split"
  "$cli" cells --voc "$shared/bccd" --split "$split.txt" --out "$tmp" --size 96 --background 2
  i=0
  for f in "$tmp/rbc"/*; do
    i=$((i + 1))
    [ $((i % 4)) -eq 0 ] && mv "$f" "$out/$split/not_a_cell/bccd-rbc-$(basename "$f")"
  done
  for f in "$tmp/wbc"/*; do mv "$f" "$out/$split/wbc/bccd-$(basename "$f")"; done
  for f in "$tmp/platelets"/* "$tmp/background"/*; do
    mv "$f" "$out/$split/not_a_cell/bccd-$(basename "$(dirname "$f")")-$(basename "$f")"
  done
  rm -rf "$tmp"
done
# the validation part once more, one folder per source, to report each source apart
# (evaluate --data OUT/val-by-source/SOURCE --map 'wbc=!not_a_cell')
for src in pbc wbcseg aria bccd; do
  for d in "$out/val"/*; do
    cls=$(basename "$d")
    dir=$(cd "$d" && pwd)
    for f in "$d/$src"-*; do
      [ -e "$f" ] || [ -L "$f" ] || continue
      mkdir -p "$out/val-by-source/$src/$cls"
      ln -s "$dir/$(basename "$f")" "$out/val-by-source/$src/$cls/$(basename "$f")"
    done
  done
done
for split in train val; do
  printf '%s:' "$split"
  for d in "$out/$split"/*; do printf ' %s %s' "$(basename "$d")" "$(ls "$d" | wc -l)"; done
  echo
done
