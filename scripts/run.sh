#!/bin/sh
# The first README command: install every dependency from the one list, build, and run
# the main job.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
exec ./build/src/cli/smearscope-cli --help
