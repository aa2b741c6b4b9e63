#!/bin/sh
# The case store under load (issue 31): 8 writer processes x N corrections (default
# 10,000) on one case, on a SQLite file and on a throwaway PostgreSQL cluster, then the
# fault run, the server killed (SIGKILL) and restarted 20 times during the writers' run,
# followed by db check. Prints the figures (no timed assertion); fails when a returned
# correction is missing, a writer failed or db check does not pass.
# Usage: bench-store.sh SMEARSCOPE-CLI [N]   (meson test --suite bench)
set -eu
cli=$1
corrections=${2:-10000}
here=$(dirname "$0")
echo "CPU: $(grep -m 1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "== SQLite file"
"$cli" bench --store --db "$dir/load.db" --writers 8 --corrections "$corrections"
echo "== PostgreSQL"
"$here/pg-cluster.sh" sh -c '"$0" bench --store --db "$SMEARSCOPE_TEST_DB" --writers 8 --corrections "$1"' \
  "$cli" "$corrections"
echo "== PostgreSQL, the server killed and restarted 20 times"
"$here/pg-cluster.sh" sh -c '"$0" bench --store --db "$SMEARSCOPE_TEST_DB" --writers 8 \
  --corrections "$1" --restarts 20 --server-control "$SMEARSCOPE_TEST_PG_CONTROL" 2>"$SMEARSCOPE_TEST_PG_CONTROL.log" \
  || { tail -n 20 "$SMEARSCOPE_TEST_PG_CONTROL.log"; exit 1; }
  grep -c "is not answering; retrying" "$SMEARSCOPE_TEST_PG_CONTROL.log" | sed "s/^/  messages \"not answering; retrying\": /"
  "$0" db check --db "$SMEARSCOPE_TEST_DB"' "$cli" "$corrections"
