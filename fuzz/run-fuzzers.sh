#!/bin/sh
# Fuzz each harness in turn (docs/fuzzing.md):
#   fuzz/run-fuzzers.sh BUILD-FUZZ/fuzz fuzz/corpus [NAME...]
# BUILD-FUZZ is a clang build with -Dfuzzing=enabled. Each harness runs until
# FUZZ_RUNS executions (default 1000000) or FUZZ_SECONDS (default 1800), under ASan +
# UBSan, 2 GiB of memory at most and 10 s an input. ASan keeps 16 MB of freed memory
# in quarantine instead of 256 (a use after that many bytes of later allocations goes
# unseen) and does not fill new blocks: twice the executions on the 2-core machine. The committed corpus is only read:
# what the fuzzer adds goes to FUZZ_OUT/NAME/corpus, findings (crash-*, leak-*, oom-*,
# timeout-*) to FUZZ_OUT/NAME/, its log to FUZZ_OUT/NAME/log. Prints a line per harness
# (executions, seconds, findings) and exits 1 if any harness found anything.
set -u
[ $# -ge 2 ] || { echo "usage: $0 BUILD-FUZZ/fuzz CORPUS-FOLDER [NAME...]" >&2; exit 2; }
bin=$1
corpus=$2
shift 2
out=${FUZZ_OUT:-$bin/../fuzz-out}
runs=${FUZZ_RUNS:-1000000}
seconds=${FUZZ_SECONDS:-1800}
names=$*
[ -n "$names" ] || names="modelfile image voc coco rle hl7 case-export store"
mkdir -p "$out"
status=0
for name in $names; do
  fuzzer=$bin/fuzz-$name
  [ -x "$fuzzer" ] || { echo "$fuzzer: not built (a clang build with -Dfuzzing=enabled)" >&2; exit 2; }
  mkdir -p "$out/$name/corpus"
  dict=
  [ -f "$corpus/../dict/$name.dict" ] && dict=-dict=$corpus/../dict/$name.dict
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=16:max_malloc_fill_size=0} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    "$fuzzer" -runs="$runs" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$out/$name/" $dict \
      "$out/$name/corpus" "$corpus/$name" > "$out/$name/log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name/log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$out/$name/log" | tail -1)
  findings=$(find "$out/$name" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
               -o -name 'oom-*' -o -name 'timeout-*' -o -name 'slow-unit-*' \) | wc -l)
  echo "$name: ${execs:-?} executions in ${secs:-?} s, exit $rc, findings $findings"
  [ "$rc" -eq 0 ] && [ "$findings" -eq 0 ] || status=1
done
exit $status
