#!/bin/sh
# The first README command: install every dependency from the one list, build, and run
# the main job: the workstation on a demo case made of the sample fields (stored in
# build/demo/cases.db; the fields are analysed the first time, opened as stored after).
# Without a display it says so and runs the command-line analysis instead.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
samples="data/samples/BloodImage_00001.jpg data/samples/BloodImage_00003.jpg"
if [ -x build/src/app/smearscope ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  mkdir -p build/demo
  # shellcheck disable=SC2086
  exec ./build/src/app/smearscope --db build/demo/cases.db --case DEMO-1 $samples
fi
echo "run.sh: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the workstation" \
  "cannot open; analysing the sample fields on the command line instead" >&2
# counts per image as CSV on stdout; overlays (boxes, masks, classes) in build/demo/
# shellcheck disable=SC2086
exec ./build/src/cli/smearscope-cli analyze $samples --csv - --overlay build/demo
