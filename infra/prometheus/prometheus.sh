# shellcheck shell=bash
# Prometheus for infra/up.sh (sourced there): Debian's `prometheus` package, run as a plain
# process on 127.0.0.1:$PROMETHEUS_PORT (9090), scraping the nodes in PROMETHEUS_TARGETS
# (comma-separated host:port, default 127.0.0.1:3000) with ops/prometheus/'s rules. Its data is
# in infra/.data/prometheus (15 days, Prometheus' default retention).

prometheus_ready() { curl -sf --max-time 2 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" >/dev/null; }

prometheus_bin() { command -v prometheus 2>/dev/null || printf '/usr/bin/prometheus'; }

start_prometheus() {
  local pid
  if pid="$(running_pid prometheus)"; then
    say "prometheus already running (pid $pid) on 127.0.0.1:$PROMETHEUS_PORT"
    return
  fi
  if port_open "$PROMETHEUS_PORT"; then
    if prometheus_ready; then
      say "prometheus: something not started by infra already answers on 127.0.0.1:$PROMETHEUS_PORT; using it"
      return
    fi
    fail "port $PROMETHEUS_PORT is taken by a process that is not Prometheus (set PROMETHEUS_PORT)"
  fi
  command -v curl >/dev/null 2>&1 || fail "curl is required to check Prometheus' readiness: apt-get install -y curl"
  bash "$INFRA_DIR/apt.sh" prometheus prometheus
  local conf_dir="$RUN_DIR/prometheus" data="$DATA_DIR/prometheus" targets
  mkdir -p "$conf_dir" "$data"
  targets="$(printf '%s' "${PROMETHEUS_TARGETS:-127.0.0.1:3000}" | sed 's/[^,][^,]*/"&"/g; s/,/, /g')"
  sed -e "s#@TARGETS@#$targets#" -e "s#@OPS_DIR@#$REPO_DIR/ops/prometheus#g" \
    "$INFRA_DIR/prometheus/prometheus.yml" >"$conf_dir/prometheus.yml"
  say "starting prometheus scraping ${PROMETHEUS_TARGETS:-127.0.0.1:3000}, log $(log_file prometheus)"
  spawn prometheus "$(prometheus_bin)" --config.file="$conf_dir/prometheus.yml" \
    --storage.tsdb.path="$data" --web.listen-address="127.0.0.1:$PROMETHEUS_PORT"
  wait_ready prometheus "$(cat "$(pid_file prometheus)")" prometheus_ready
  say "prometheus ready on http://127.0.0.1:$PROMETHEUS_PORT"
}
