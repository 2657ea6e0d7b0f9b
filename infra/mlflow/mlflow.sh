# shellcheck shell=bash
# MLflow for infra/up.sh (sourced there): the tracking server and model registry from PyPI
# (`mlflow`, pinned in infra/mlflow/requirements.txt), in a venv of its own: mlflow 3.17 pins
# pyarrow < 26 and the shared venv (infra/python.sh) has delta-rs' pyarrow 26. On 127.0.0.1:$MLFLOW_PORT (5000) with a sqlite backend store and an artifact
# folder in infra/.data/mlflow. --serve-artifacts makes runs' artifact URIs `mlflow-artifacts:/`,
# so clients upload and read artifacts through the REST API without access to the folder.
# One worker: the machine has two cores shared by everything else.

mlflow_ready() { curl -sf --max-time 2 "http://127.0.0.1:$MLFLOW_PORT/health" >/dev/null; }

# Idempotent and offline-safe like infra/python.sh: reinstalls only when the pin changed.
install_mlflow() {
  local venv="$1" requirements="$INFRA_DIR/mlflow/requirements.txt" wanted
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"
  if [ -x "$venv/bin/mlflow" ] && [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" = "$wanted" ]; then return; fi
  command -v python3 >/dev/null 2>&1 || fail "python3 is required for MLflow: apt-get install -y python3 python3-venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >"$(log_file mlflow-venv)" 2>&1 ||
    fail "python3 -m venv failed (Debian: apt-get install -y python3-venv)"
  say "installing mlflow (log $(log_file mlflow-pip))"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" \
    >"$(log_file mlflow-pip)" 2>&1 || {
    tail -n 30 "$(log_file mlflow-pip)" >&2
    fail "pip install -r infra/mlflow/requirements.txt failed"
  }
  printf '%s' "$wanted" >"$venv/.requirements.sha256"
}

start_mlflow() {
  local pid
  if pid="$(running_pid mlflow)"; then
    say "mlflow already running (pid $pid) on 127.0.0.1:$MLFLOW_PORT"
    return
  fi
  if port_open "$MLFLOW_PORT"; then
    mlflow_ready || fail "port $MLFLOW_PORT is taken by a process that is not MLflow (set MLFLOW_PORT)"
    say "mlflow: something not started by infra already answers on 127.0.0.1:$MLFLOW_PORT; using it"
    return
  fi
  local venv="$CACHE_DIR/mlflow-venv" data="$DATA_DIR/mlflow"
  install_mlflow "$venv"
  mkdir -p "$data/artifacts"
  say "starting mlflow on 127.0.0.1:$MLFLOW_PORT, log $(log_file mlflow)"
  spawn mlflow "$venv/bin/mlflow" server --host 127.0.0.1 --port "$MLFLOW_PORT" --workers 1 \
    --backend-store-uri "sqlite:///$data/mlflow.db" --serve-artifacts \
    --artifacts-destination "$data/artifacts"
  wait_ready mlflow "$(cat "$(pid_file mlflow)")" mlflow_ready
  say "mlflow ready on http://127.0.0.1:$MLFLOW_PORT (UI and REST /api/2.0/mlflow)"
}
