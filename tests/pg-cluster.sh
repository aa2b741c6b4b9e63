#!/bin/sh
# Run one command against a throwaway PostgreSQL cluster: initdb in a temporary folder
# (as an unprivileged user: initdb refuses root), a server listening on a unix socket in
# that folder only, and the command run with SMEARSCOPE_TEST_DB set to the cluster's
# maintenance database (postgresql:///postgres?host=SOCKET&port=PORT&user=USER); the
# tests make a database of their own from it for each store, and may stop and start the
# server with SMEARSCOPE_TEST_PG_CONTROL (a script taking stop or start). The server is
# stopped and the folder removed when the command ends, whatever its end. Exits with the
# command's status, or 77 (meson's skip) when Debian's server binaries are not installed.
# Usage: pg-cluster.sh COMMAND [ARGS...]
set -eu

# SMEARSCOPE_PG_BIN names the folder of the server's binaries; else Debian's newest.
bin=""
for candidate in ${SMEARSCOPE_PG_BIN:-/usr/lib/postgresql/*/bin}; do
  if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
    bin=$candidate
  fi
done
if [ -z "$bin" ]; then
  echo "skipped: the PostgreSQL server binaries (initdb, pg_ctl) are not installed;" \
       "apt-get install postgresql (deps/debian-packages.txt) to run the store's tests on PostgreSQL"
  exit 77
fi

folder=$(mktemp -d /tmp/ss-pg-XXXXXX)
# The server runs as the caller, or as a user that is not root when the caller is root
# (CI): nobody, who owns nothing else and needs no home.
as_server=""
if [ "$(id -u)" = 0 ]; then
  server_user=nobody
  chown "$server_user" "$folder"
  as_server="runuser -u $server_user --"
else
  server_user=$(id -un)
fi
chmod 0700 "$folder"

stop() {
  status=$?
  if [ -f "$folder/data/postmaster.pid" ]; then
    $as_server "$bin/pg_ctl" -D "$folder/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$folder"
  exit "$status"
}
trap stop EXIT
trap 'exit 130' INT TERM

# trust over the socket: the socket's folder is readable by its owner only (and root),
# so nobody else on the machine can reach this server.
$as_server "$bin/initdb" -D "$folder/data" -U smearscope --auth=trust -E UTF8 --locale=C \
  --no-instructions >"$folder/initdb.log" 2>&1 || { cat "$folder/initdb.log"; exit 1; }
# A port no other server on the machine is likely to use; only its socket's name.
port=$((20000 + $$ % 20000))
$as_server "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \
  -o "-c listen_addresses='' -c unix_socket_directories='$folder' -p $port -c max_connections=60" \
  start >/dev/null || { cat "$folder/server.log"; exit 1; }

# The reconnection tests stop the server and start it again: control.sh stop|kill|start
# (kill: SIGKILL to the postmaster; start waits for its orphaned backends to go).
cat >"$folder/control.sh" <<EOF
#!/bin/sh
case "\$1" in
  stop) exec $as_server "$bin/pg_ctl" -D "$folder/data" -m immediate -w stop >/dev/null ;;
  kill) kill -KILL "\$(head -n 1 "$folder/data/postmaster.pid")" ;;
  start)
    for attempt in \$(seq 40); do
      $as_server "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w -t 60 \\
        -o "-c listen_addresses='' -c unix_socket_directories='$folder' -p $port -c max_connections=60" \\
        start >/dev/null 2>&1 && exit 0
      sleep 0.25
    done
    exit 1 ;;
esac
EOF
chmod 0755 "$folder/control.sh"
export SMEARSCOPE_TEST_PG_CONTROL="$folder/control.sh"
export SMEARSCOPE_TEST_DB="postgresql:///postgres?host=$folder&port=$port&user=smearscope"
echo "PostgreSQL $("$bin/postgres" --version | awk '{ print $3 }') at $SMEARSCOPE_TEST_DB (server user $server_user)"
"$@"
