#!/bin/sh
# Every default suite again under AddressSanitizer + UndefinedBehaviorSanitizer, the
# window's tests included (issue 32; docs/security.md). Not in the README's test command:
# it takes about an hour on 2 cores (the models suite alone 20-30 minutes). Run
# after scripts/test.sh (the one list of packages installed).
set -eu
cd "$(dirname "$0")/.."
[ -d build-san ] || meson setup build-san -Db_sanitize=address,undefined -Dbuildtype=debug
meson compile -C build-san
# a sanitizer slows the few timed checks of the tests: SMEARSCOPE_TEST_TIME_FACTOR widens
# them; leaks are looked for outside the window's tests (GTK's one-time allocations),
# with fontconfig's suppressed (tests/sanitizers/lsan.supp)
export SMEARSCOPE_TEST_TIME_FACTOR=10 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
ASAN_OPTIONS=detect_leaks=1 \
LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0" \
  meson test -C build-san --print-errorlogs --timeout-multiplier 4 \
    --no-suite slow --no-suite bench --no-suite gui "$@"
# the window's tests, leaks not looked for (GTK's one-time allocations)
ASAN_OPTIONS=detect_leaks=0 \
  meson test -C build-san --print-errorlogs --timeout-multiplier 4 --suite gui
