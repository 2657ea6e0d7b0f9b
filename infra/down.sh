#!/usr/bin/env bash
# Stop the servers infra/up.sh started:  infra/down.sh [kafka] [questdb] [mosquitto]  (default: all)
# Data stays in infra/.data; `infra/down.sh --wipe` also deletes it (Kafka gets a fresh cluster id
# on the next start).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wipe=false
services=()
for arg in "$@"; do
  if [ "$arg" = "--wipe" ]; then wipe=true; else services+=("$arg"); fi
done
[ "${#services[@]}" -gt 0 ] || services=("${ALL_SERVICES[@]}")
check_services "${services[@]}"

for service in "${services[@]}"; do
  if pid="$(running_pid "$service")"; then
    say "stopping $service (pid $pid)"
    stop_pid "$service" "$pid"
  else
    rm -f "$(pid_file "$service")"
    say "$service not running"
  fi
  if [ "$wipe" = true ]; then
    say "deleting $DATA_DIR/$service"
    rm -rf "${DATA_DIR:?}/$service"
  fi
done
