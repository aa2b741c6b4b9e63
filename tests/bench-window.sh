#!/bin/sh
# The workstation benchmark (issue 26): make the 10,000-cell case in a scratch folder,
# then time the real window under Xvfb twice: with GSK_RENDERER=cairo, and with GTK's
# default renderer (GL, on Mesa's llvmpipe under Xvfb). The figures and whether each goal
# was met are on stdout; the run fails only if the bench could not measure.
#   bench-window.sh GEN-BENCH-CASE SMEARSCOPE
set -eu
gen=$1
app=$2
for tool in xvfb-run dbus-run-session; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "bench-window: $tool is not installed; skipped (deps/debian-packages.txt lists it)"
    exit 77
  fi
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/ss-bench-XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

"$gen" "$dir/cases.db"
# the thumbnails the window caches stay in the scratch folder; the window's own first
# opening of the case (at start) makes them, the timed openings after it find them
export XDG_CACHE_HOME="$dir/cache"

# $1: the GSK_RENDERER to ask for, or "default" for GTK's own choice
run_bench () {
  echo "bench-window: GSK_RENDERER=$1"
  if [ "$1" = default ]; then
    set -- env -u GSK_RENDERER
  else
    set -- env GSK_RENDERER="$1"
  fi
  "$@" ADW_DISABLE_PORTAL=1 GSETTINGS_BACKEND=memory \
    dbus-run-session -- xvfb-run -a -s "-screen 0 1400x900x24 -noreset" \
    "$app" --bench --db "$dir/cases.db" --case BENCH-10K >"$dir/out" 2>"$dir/err" || true
  cat "$dir/out"
  if ! grep -q '^{"bench":' "$dir/out"; then
    echo "bench-window: no figures; the program said:" >&2
    cat "$dir/err" >&2
    return 1
  fi
}

run_bench cairo
run_bench default
