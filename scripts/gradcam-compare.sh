#!/bin/sh
# Issue 29's Grad-CAM pictures: the same images explained by every model, one row per
# model, one column per image, each map of the model's own call (--class to ask for one).
#
#   gradcam-compare.sh CLI OUT.jpg MODEL... -- IMAGE...
#
# Each tile is `smearscope-cli explain MODEL IMAGE --out` as it is; ImageMagick's montage
# puts them together at 160 px. Prints each model's call of each image.
set -eu
[ $# -ge 5 ] || { sed -n '2,8p' "$0"; exit 2; }
CLI=$1 OUT=$2
shift 2
models=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do models="$models $1"; shift; done
[ $# -gt 1 ] || { echo "give -- and at least one image" >&2; exit 2; }
shift
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
tiles=""
r=0
for m in $models; do
  c=0
  for img in "$@"; do
    t=$TMP/$r-$c.png
    printf '%s %s: ' "$(basename "$m")" "$(basename "$img")"
    "$CLI" explain "$m" "$img" --out "$t" | tail -n 1
    tiles="$tiles $t"
    c=$((c + 1))
  done
  r=$((r + 1))
done
# shellcheck disable=SC2086
montage $tiles -tile "$#x" -geometry 160x160+3+3 -quality 88 "$OUT"
echo "wrote $OUT: $r models x $# images"
