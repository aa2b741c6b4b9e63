#!/bin/sh
# The first README command: install every dependency from the one list, build, and run
# the main job.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
# the main job: analyse the sample fields, print the counts per image as CSV, and write
# the overlays (boxes, masks, classes, confidences) to build/demo/
exec ./build/src/cli/smearscope-cli analyze data/samples/BloodImage_00001.jpg \
  data/samples/BloodImage_00003.jpg --csv - --overlay build/demo
