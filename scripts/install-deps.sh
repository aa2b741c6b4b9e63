#!/bin/sh
# Install every package of deps/debian-packages.txt that is not installed yet.
# Idempotent: a machine that has them all does nothing and needs no network.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
list="$here/deps/debian-packages.txt"
missing=""
for pkg in $(grep -v '^#' "$list" | sed 's/#.*//' | tr -s ' \n' ' '); do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $pkg"
  fi
done
if [ -z "$missing" ]; then
  exit 0
fi
echo "install-deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: these packages are missing and installing them needs root:$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $missing
