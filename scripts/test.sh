#!/bin/sh
# The whole default test suite on a fresh Debian 12 machine (or an old one): install what
# is missing from the one list, build, run every default suite, then every default suite
# again under AddressSanitizer + UndefinedBehaviorSanitizer with three of the window's
# tests (docs/security.md; the models suite, 5 to 8 minutes a model there, and the other
# five window tests are left to the command given there, and valgrind's run of the store
# and engine suites too: about 20 minutes in all).
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -d build ] || meson setup build
meson compile -C build
meson test -C build --print-errorlogs --no-suite slow --no-suite bench
[ -d build-san ] || meson setup build-san -Db_sanitize=address,undefined -Dbuildtype=debug
meson compile -C build-san
# a sanitizer slows the few timed checks of the tests: SMEARSCOPE_TEST_TIME_FACTOR widens
# them; leaks are looked for outside the window's tests (GTK's one-time allocations),
# with fontconfig's suppressed (tests/sanitizers/lsan.supp)
export SMEARSCOPE_TEST_TIME_FACTOR=10 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1 \
LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0" \
  meson test -C build-san --print-errorlogs --timeout-multiplier 4 \
    --no-suite slow --no-suite bench --no-suite models --no-suite gui
# of the window's tests, those of bad input and the truth overlay's (about a minute each
# under ASan); all eight: the command in docs/security.md
ASAN_OPTIONS=detect_leaks=0 \
  meson test -C build-san --print-errorlogs --timeout-multiplier 4 \
    gui-test-errors gui-test-hostile-images gui-test-truth
