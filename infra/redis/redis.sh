# shellcheck shell=bash
# Redis for infra/up.sh (sourced there): Debian's `redis-server` package, run as a plain process
# on 127.0.0.1:$REDIS_PORT (6379) as the feature store's online store (REDIS_URL). Append-only
# file on (appendfsync everysec), so materialized features survive a restart of the server; data
# in infra/.data/redis. No password: it listens on loopback only (protected mode stays on).

redis_ready() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

start_redis() {
  local pid
  if pid="$(running_pid redis)"; then
    say "redis already running (pid $pid) on 127.0.0.1:$REDIS_PORT"
    return
  fi
  bash "$INFRA_DIR/apt.sh" redis-server redis-server redis-tools redis-cli
  if port_open "$REDIS_PORT"; then
    if redis_ready; then
      say "redis: something not started by infra already answers on 127.0.0.1:$REDIS_PORT; using it"
      return
    fi
    fail "port $REDIS_PORT is taken by a process that is not Redis (set REDIS_PORT)"
  fi
  local data="$DATA_DIR/redis"
  mkdir -p "$data"
  say "starting redis on 127.0.0.1:$REDIS_PORT, log $(log_file redis)"
  spawn redis "$(command -v redis-server || printf '/usr/bin/redis-server')" --bind 127.0.0.1 \
    --port "$REDIS_PORT" --dir "$data" --appendonly yes --appendfsync everysec --save "" \
    --daemonize no --logfile ""
  wait_ready redis "$(cat "$(pid_file redis)")" redis_ready
  say "redis ready on redis://127.0.0.1:$REDIS_PORT"
}
