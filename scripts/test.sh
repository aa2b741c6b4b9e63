#!/bin/sh
# The whole default test suite on a fresh Debian 12 machine (or an old one): install what
# is missing from the one list, build, run every default suite, then the engine tests, the
# hostile-input tests and the replay of every fuzzing corpus again under AddressSanitizer
# + UndefinedBehaviorSanitizer. Every default suite under the sanitizers, the window's
# tests included, is scripts/test-sanitizers.sh (about an hour more; docs/security.md).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
meson test -C build --print-errorlogs --no-suite slow --no-suite bench
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Dbuildtype=debug -Dgui=disabled
meson compile -C build-asan
# a sanitizer slows the few timed checks: SMEARSCOPE_TEST_TIME_FACTOR widens them
SMEARSCOPE_TEST_TIME_FACTOR=10 ASAN_OPTIONS=detect_leaks=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0" \
  meson test -C build-asan --print-errorlogs --timeout-multiplier 4 \
    --suite engine --suite fuzz-smoke --suite hostile
