# shellcheck shell=bash
# Shared by infra/up.sh, down.sh and status.sh: paths, versions, process and port helpers.
# Each server runs as a plain background process with its pid in infra/.run/<name>.pid and its
# output in infra/.run/<name>.log. Nothing here needs Docker or systemd.

set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INFRA_DIR/.." && pwd)"
RUN_DIR="$INFRA_DIR/.run"
DATA_DIR="$INFRA_DIR/.data"
CACHE_DIR="$INFRA_DIR/.cache"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
QUESTDB_VERSION="${QUESTDB_VERSION:-9.3.0}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
QUESTDB_HEAP="${QUESTDB_HEAP:-512m}"
READY_TIMEOUT_S="${INFRA_READY_TIMEOUT_S:-120}"

ALL_SERVICES=(kafka questdb mosquitto alertmanager prometheus redis mlflow)
# Alertmanager web/API port (9093, its default, is the Kafka controller here)
ALERTMANAGER_PORT="${ALERTMANAGER_PORT:-9193}"
PROMETHEUS_PORT="${PROMETHEUS_PORT:-9090}"
REDIS_PORT="${REDIS_PORT:-6379}"
MLFLOW_PORT="${MLFLOW_PORT:-5000}"

mkdir -p "$RUN_DIR" "$DATA_DIR" "$CACHE_DIR"

say() { printf '[infra] %s\n' "$*"; }
fail() {
  printf '[infra] ERROR: %s\n' "$*" >&2
  exit 1
}

# Unknown service names are an error before anything starts.
check_services() {
  local name
  for name in "$@"; do
    case "$name" in
      kafka | questdb | mosquitto | alertmanager | prometheus | redis | mlflow) ;;
      *) fail "unknown service '$name' (known: ${ALL_SERVICES[*]})" ;;
    esac
  done
}

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
log_file() { printf '%s/%s.log' "$RUN_DIR" "$1"; }

# The pid of a service we started that is still alive, or nothing.
running_pid() {
  local file pid
  file="$(pid_file "$1")"
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    printf '%s' "$pid"
    return 0
  fi
  return 1
}

port_open() {
  # bash's /dev/tcp: no nc or curl needed
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Wait until `check` succeeds, the process dies, or READY_TIMEOUT_S passes.
wait_ready() {
  local name="$1" pid="$2" check="$3"
  local started=$SECONDS
  while ! "$check" 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "$name exited before it was ready; last lines of $(log_file "$name"):"
      tail -n 40 "$(log_file "$name")" >&2 || true
      fail "$name did not start"
    fi
    if [ $((SECONDS - started)) -ge "$READY_TIMEOUT_S" ]; then
      say "$name not ready after ${READY_TIMEOUT_S}s; last lines of $(log_file "$name"):"
      tail -n 40 "$(log_file "$name")" >&2 || true
      fail "$name not ready in time (pid $pid left running; infra/down.sh $name stops it)"
    fi
    sleep 0.5
  done
}

# Start a command detached from this shell (own session, no stdin), recording its pid.
spawn() {
  local name="$1"
  shift
  : >"$(log_file "$name")"
  setsid nohup "$@" >>"$(log_file "$name")" 2>&1 </dev/null &
  printf '%s' "$!" >"$(pid_file "$name")"
}

require_java() {
  command -v java >/dev/null 2>&1 ||
    fail "Java 17+ is required for Kafka and QuestDB and was not found. Install it: apt-get install -y openjdk-17-jre-headless"
  local version major
  version="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  major="${version%%.*}"
  if [ "$major" = "1" ]; then major="$(printf '%s' "$version" | cut -d. -f2)"; fi
  if ! [ "$major" -ge 17 ] 2>/dev/null; then
    fail "Java 17+ is required, found '$version' ($(command -v java)). Install openjdk-17-jre-headless or newer."
  fi
}

require_maven() {
  command -v mvn >/dev/null 2>&1 ||
    fail "Maven is required to fetch the Kafka and QuestDB jars from Maven Central and was not found. Install it: apt-get install -y maven"
}

stop_pid() {
  local name="$1" pid="$2" waited=0
  kill -TERM "$pid" 2>/dev/null || true
  # Kafka shuts down cleanly within a few seconds; give it 30 before forcing.
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 60 ]; then
      say "$name (pid $pid) ignored SIGTERM for 30s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.5
    waited=$((waited + 1))
  done
  rm -f "$(pid_file "$name")"
}
