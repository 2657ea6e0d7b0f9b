#!/usr/bin/env bash
# The shared Python venv that tests and benchmarks use (delta-rs `deltalake`, pyarrow, duckdb):
#   infra/python.sh            create or update it, print nothing else but progress
#   infra/python.sh --path     print the venv's python interpreter
# Idempotent and offline-safe: the venv is rebuilt only when infra/python/requirements.txt
# changed since the last successful install (a stamp holds its hash), so a machine that already
# installed it never reaches PyPI again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VENV_DIR="$CACHE_DIR/venv"
REQUIREMENTS="$INFRA_DIR/python/requirements.txt"
STAMP="$VENV_DIR/.requirements.sha256"

if [ "${1:-}" = "--path" ]; then
  printf '%s/bin/python\n' "$VENV_DIR"
  exit 0
fi

# one install at a time: two pip runs in one venv (two engineers, or CI steps) break each other
exec 9>"$CACHE_DIR/venv.lock"
flock 9

wanted="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
if [ -x "$VENV_DIR/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ]; then
  say "python venv up to date ($VENV_DIR)"
  exit 0
fi

command -v python3 >/dev/null 2>&1 || fail "python3 is required for the delta-rs tests: apt-get install -y python3 python3-venv"
if [ ! -x "$VENV_DIR/bin/python" ]; then
  say "creating python venv in $VENV_DIR"
  python3 -m venv "$VENV_DIR" >"$(log_file python-venv)" 2>&1 || {
    tail -n 20 "$(log_file python-venv)" >&2
    fail "python3 -m venv failed (Debian: apt-get install -y python3-venv)"
  }
fi
say "installing $(grep -cv '^\s*#' "$REQUIREMENTS") pinned python packages (log $(log_file python-pip))"
"$VENV_DIR/bin/python" -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS" \
  >"$(log_file python-pip)" 2>&1 || {
  tail -n 30 "$(log_file python-pip)" >&2
  fail "pip install -r infra/python/requirements.txt failed"
}
printf '%s' "$wanted" >"$STAMP"
say "python venv ready ($VENV_DIR)"
