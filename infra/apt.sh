#!/usr/bin/env bash
# Idempotent, quiet installer of Debian packages for infra and tests:
#   infra/apt.sh <package> <command> [<package> <command> ...]
# installs each package whose command is not on the PATH (nor in /usr/bin or /usr/sbin), and
# does nothing at all when every command is there. Waits for the dpkg lock (other installers
# may run at the same time), runs `apt-get update` only when an install fails without it, and
# shows the log's tail when it still fails. Needs root and apt-get only when something is missing.
set -euo pipefail
[ $(($# % 2)) -eq 0 ] && [ $# -gt 0 ] || {
  echo "usage: infra/apt.sh <package> <command> [<package> <command> ...]" >&2
  exit 2
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ] || [ -x "/usr/sbin/$1" ]; }

missing=()
while [ $# -gt 0 ]; do
  have "$2" || missing+=("$1")
  shift 2
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "missing Debian packages: ${missing[*]}; install them: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
install() { apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}" >>"$log" 2>&1; }
echo "[apt] installing ${missing[*]}"
if ! install; then
  apt-get -o DPkg::Lock::Timeout=300 update -q >>"$log" 2>&1 || true
  install || {
    tail -n 30 "$log" >&2
    echo "[apt] apt-get install ${missing[*]} failed" >&2
    exit 1
  }
fi
