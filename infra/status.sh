#!/usr/bin/env bash
# Which servers run and answer:  infra/status.sh [kafka] [questdb] [mosquitto]  (default: all)
# One line per server: "<name> ready|down|unhealthy pid=<pid|-> <endpoint>".
# Exit 0 when every named server answers, 3 otherwise.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kafka_answers() { (cd "$REPO_DIR" && bun infra/kafka-probe.ts 127.0.0.1:9092 >/dev/null 2>&1); }
questdb_answers() { curl -sf --max-time 2 'http://127.0.0.1:9000/exec?query=select%201' >/dev/null 2>&1; }
mosquitto_answers() { port_open 1883; }
prometheus_answers() { curl -sf --max-time 2 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null 2>&1; }
redis_answers() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }
mlflow_answers() { curl -sf --max-time 2 "http://127.0.0.1:$MLFLOW_PORT/health" >/dev/null 2>&1; }
alertmanager_answers() { curl -sf --max-time 2 "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" >/dev/null 2>&1; }

endpoint() {
  case "$1" in
    kafka) printf 'kafka://127.0.0.1:9092' ;;
    questdb) printf 'http://127.0.0.1:9000 ilp=127.0.0.1:9009 pg=127.0.0.1:8812' ;;
    mosquitto) printf 'mqtt://127.0.0.1:1883' ;;
    alertmanager) printf 'http://127.0.0.1:%s' "$ALERTMANAGER_PORT" ;;
    prometheus) printf 'http://127.0.0.1:%s' "$PROMETHEUS_PORT" ;;
    redis) printf 'redis://127.0.0.1:%s' "$REDIS_PORT" ;;
    mlflow) printf 'http://127.0.0.1:%s' "$MLFLOW_PORT" ;;
  esac
}

services=("$@")
[ "${#services[@]}" -gt 0 ] || services=("${ALL_SERVICES[@]}")
check_services "${services[@]}"

all_ready=true
for service in "${services[@]}"; do
  pid="$(running_pid "$service" || printf -- '-')"
  if "${service}_answers"; then
    state=ready
  elif [ "$pid" != "-" ]; then
    state=unhealthy
    all_ready=false
  else
    state=down
    all_ready=false
  fi
  printf '%-9s %-9s pid=%-7s %s\n' "$service" "$state" "$pid" "$(endpoint "$service")"
done
[ "$all_ready" = true ] || exit 3
