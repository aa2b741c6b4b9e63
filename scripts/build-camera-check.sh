#!/bin/sh
# The camera check beside the cell-type model (issue 27; docs/models.md, "A camera unlike
# the ones it learned"): the camera statistics of white cells from every training source
# that taught the model cell types, cut as the analysis cuts them, the threshold beyond
# which a field's cells look unlike all of them, and the colours such a camera's cells are
# brought to: those of PBC's cells, the one source that teaches all eight types. BCCD's
# cells are never known: they taught the model "a white cell", not a type.
#
#   build-camera-check.sh CLI MODEL SET WORK OUT.csv [SOURCE_LEFT_OUT]
#
# SET: OUT of scripts/build-celltype-set.sh with PBC_FRAMING=cells (its PBC, aria-all and
# BCCD white-cell crops are framed as the analysis frames cells; its wbc-seg pictures are
# whole, so wbc-seg's training pictures are cut here with `cells --pick centre`). For
# each source and class, up to 30 cells are known and up to 15 others set the threshold
# (their distances' 95th percentile). SOURCE_LEFT_OUT (pbc, aria, wbcseg-dataset1,
# wbcseg-dataset2) leaves one source out, to measure a camera the check never saw (with
# pbc left out the check has no target colours).
set -eu
[ $# -ge 5 ] || { sed -n '2,15p' "$0"; exit 2; }
CLI=$1 MODEL=$2 SET=$3 WORK=$4 OUT=$5 LEFT=${6:-none}
DATA=$(cd "$(dirname "$0")/.." && pwd)/../shared/datasets
rm -rf "$WORK"
mkdir -p "$WORK/known" "$WORK/calibrate"
take () {  # take FOLDER PREFIX CLASS [NAME]: 30 known, 15 to calibrate, spread over the
           # folder, linked as NAME-file when NAME is given
  ls "$1" | grep "^$2" | awk -v k="$WORK/known/$3" -v c="$WORK/calibrate/$3" -v d="$1" '
    { f[NR] = $0 } END {
      step = NR > 45 ? NR / 45 : 1
      for (i = 0; i < 45 && int(i * step) + 1 <= NR; i++)
        print d "/" f[int(i * step) + 1] "\t" (i % 3 == 2 ? c : k)
    }' | while IFS="$(printf '\t')" read -r file to; do
      mkdir -p "$to"
      ln -s "$(readlink -f "$file")" "$to/${4:+$4-}$(basename "$file")"
    done
}
for folder in "$SET"/train/*/; do
  cls=$(basename "$folder")
  [ "$cls" = not_a_cell ] && continue
  for src in pbc aria; do
    [ "$src" = "$LEFT" ] && continue
    take "$folder" "$src-" "$cls"
  done
done
# wbc-seg's training pictures (even ids), each cut at its centre cell as the analysis
# cuts it with no option: dataset2's fields at the 157 px their red cells give, dataset1's
# single-cell crops (no red cells to measure) at the 200 px the analysis falls back to
for ds in dataset1:200 dataset2:157; do
  name=${ds%%:*} diameter=${ds#*:}
  [ "wbcseg-$name" = "$LEFT" ] && continue
  pictures=$WORK/wbcseg-$name
  tail -n +2 "$DATA/wbc-seg/$name/labels.csv" | while IFS=, read -r id cls; do
    [ $(( $(echo "$id" | sed 's/^0*//') % 2 )) -eq 0 ] || continue
    mkdir -p "$pictures/$cls"
    ln -s "$DATA/wbc-seg/$name/images/$id.png" "$pictures/$cls/$id.png"
  done
  "$CLI" cells --data "$pictures" --cell-diameter "$diameter" --max-cells 1 --pick centre \
    --size 128 --out "$WORK/cut-$name" >/dev/null
  for folder in "$WORK/cut-$name"/*/; do
    take "$folder" "" "$(basename "$folder")" "wbcseg-$name"
  done
done
# the target: PBC's known cells, pooled
if [ "$LEFT" != pbc ]; then
  mkdir -p "$WORK/target/wbc"
  for f in "$WORK"/known/*/pbc-*; do
    ln -s "$(readlink -f "$f")" "$WORK/target/wbc/$(basename "$(dirname "$f")")-$(basename "$f")"
  done
fi
# shellcheck disable=SC2046
"$CLI" distance --camera --model "$MODEL" --fit "$WORK/known" --map 'wbc=!not_a_cell' \
  --calibrate "$WORK/calibrate" --save "$OUT" $([ "$LEFT" = pbc ] || echo --target "$WORK/target")
