#!/bin/sh
# The README / metainfo screenshots of the review window (issue 26).
#
#   tests/gui/screenshots.sh BUILD OUTDIR
#
# Writes OUTDIR/review-light.png, review-dark.png and review-id.png (Indonesian), each
# the real window under Xvfb with a case of three BCCD fields in review. Needs what the
# GUI tests need (see run-gui-test.sh) and ../shared/datasets (or SS_DATASETS=DIR).
# Translations come from BUILD/po: after adding po/id.po, `meson setup --reconfigure
# BUILD && ninja -C BUILD` first.
set -u
if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD OUTDIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "$1" && pwd) || exit 2
mkdir -p "$2" && OUT=$(cd "$2" && pwd) || exit 2
DATASETS=${SS_DATASETS:-$HERE/../../../shared/datasets}
APP=$BUILD/src/app/smearscope
CLI=$BUILD/src/cli/smearscope-cli
status=0

shot () {
  name=$1
  shift
  echo "== $name: $*"
  env SS_GUI_KEEP_LOCALE=1 "$@" "$HERE/run-gui-test.sh" "$APP" "$CLI" "$DATASETS" \
    "$HERE/take_screenshot.py" "$OUT/$name.png" || status=$?
}

# light and dark: libadwaita 1.2 reads ADW_DEBUG_COLOR_SCHEME (as the system's
# preference; the application follows it)
shot review-light LANG=C.UTF-8 LANGUAGE= ADW_DEBUG_COLOR_SCHEME=prefer-light
shot review-dark LANG=C.UTF-8 LANGUAGE= ADW_DEBUG_COLOR_SCHEME=prefer-dark

# Indonesian: LANG=id_ID.UTF-8 when that locale is installed; otherwise C.UTF-8 with
# LANGUAGE=id, which gettext honours too (only the plain "C" locale ignores LANGUAGE)
if locale -a 2>/dev/null | grep -qi '^id_ID\.utf-\?8$'; then
  id_lang=id_ID.UTF-8
else
  id_lang=C.UTF-8
  echo "note: the id_ID.UTF-8 locale is not installed; using LANG=C.UTF-8 LANGUAGE=id" >&2
fi
[ -f "$BUILD/po/id/LC_MESSAGES/smearscope.mo" ] ||
  echo "note: $BUILD/po/id/LC_MESSAGES/smearscope.mo is missing: the window stays in English" >&2
shot review-id LANG=$id_lang LANGUAGE=id ADW_DEBUG_COLOR_SCHEME=prefer-light

ls -l "$OUT"/review-*.png 2>/dev/null
exit $status
