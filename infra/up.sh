#!/usr/bin/env bash
# Start the real servers on this machine, without Docker:
#   infra/up.sh [kafka] [questdb] [mosquitto] [alertmanager] [prometheus]     (default: all)
# Idempotent: a server already running is left alone. Each start waits until the server answers
# (Kafka: metadata + topic create; QuestDB: SQL over HTTP; Mosquitto: its port), at most
# INFRA_READY_TIMEOUT_S seconds (default 120), and prints the log tail when it fails.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# start_prometheus (Debian's package, scraping the nodes with ops/prometheus/'s rules)
source "$INFRA_DIR/prometheus/prometheus.sh"
# start_redis (Debian's package: the feature store's online store)
source "$INFRA_DIR/redis/redis.sh"
# start_mlflow (PyPI, in the shared venv: tracking server and model registry)
source "$INFRA_DIR/mlflow/mlflow.sh"

# ---------------------------------------------------------------- Kafka (KRaft combined mode)

kafka_lib_dir() { printf '%s/kafka/%s/lib' "$CACHE_DIR" "$KAFKA_VERSION"; }

fetch_kafka() {
  local lib
  lib="$(kafka_lib_dir)"
  [ -f "$lib/.complete" ] && return
  require_maven
  say "fetching Apache Kafka $KAFKA_VERSION and its dependencies with Maven (cached in ~/.m2)"
  rm -rf "$lib"
  mkdir -p "$lib"
  mvn -q -B -Dstyle.color=never -f "$INFRA_DIR/kafka/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$lib" \
    >"$(log_file maven-kafka)" 2>&1 || {
    tail -n 30 "$(log_file maven-kafka)" >&2
    fail "Maven could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION (log: $(log_file maven-kafka))"
  }
  touch "$lib/.complete"
}

# java plus the options every Kafka JVM gets (the broker and the storage tool)
kafka_java_command() {
  printf '%s\n' java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.properties" \
    -cp "$(kafka_lib_dir)/*"
}

# A Kafka cluster id: 16 random bytes, base64url without padding (org.apache.kafka.common.Uuid).
new_cluster_id() {
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [ "${id:0:1}" != "-" ] && break
  done
  printf '%s' "$id"
}

kafka_ready() { (cd "$REPO_DIR" && bun infra/kafka-probe.ts 127.0.0.1:9092 >/dev/null); }

kafka_tls_dir() { printf '%s/kafka-tls' "$DATA_DIR"; }

# A CA and a certificate for the SASL_SSL listener (127.0.0.1:9094), made once with openssl and
# kept, so clients keep trusting infra/.data/kafka-tls/ca.pem (KAFKA_TLS_CA_FILE) across restarts.
make_kafka_tls() {
  local dir
  dir="$(kafka_tls_dir)"
  [ -s "$dir/keystore.pem" ] && return
  if ! command -v openssl >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      fail "openssl is required for Kafka's TLS listener: sudo apt-get install -y openssl"
    fi
    say "installing openssl from the Debian package (Kafka's TLS listener needs a certificate)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q openssl >"$(log_file openssl-install)" 2>&1 ||
      fail "apt-get install openssl failed (log: $(log_file openssl-install))"
  fi
  mkdir -p "$dir"
  chmod 700 "$dir"
  say "making a CA and a broker certificate for Kafka's SASL_SSL listener in $dir"
  (
    cd "$dir" &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.pem -subj "/CN=streaming-ml infra CA" &&
      openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=127.0.0.1" &&
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >san.ext &&
      openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -out broker.pem -extfile san.ext &&
      openssl pkcs8 -topk8 -nocrypt -in broker.key -out broker.pk8 &&
      cat broker.pk8 broker.pem ca.pem >keystore.pem
  ) >"$(log_file kafka-tls)" 2>&1 || {
    tail -n 20 "$(log_file kafka-tls)" >&2
    rm -f "$dir/keystore.pem"
    fail "making Kafka's TLS certificate failed"
  }
}

# The SCRAM user the platform connects as on 9094: KAFKA_SASL_USERNAME (default platform) with
# KAFKA_SASL_PASSWORD, or a password made once and kept in infra/.data/kafka-tls/scram-password.
# A failure here leaves Kafka running (9092 does not need it) and says so.
add_kafka_scram_user() {
  local dir user password_file
  dir="$(kafka_tls_dir)"
  user="${KAFKA_SASL_USERNAME:-platform}"
  password_file="$dir/scram-password"
  if [ -n "${KAFKA_SASL_PASSWORD:-}" ]; then
    password_file="$(umask 077 && mktemp "$dir/scram-XXXXXX")"
    printf '%s' "$KAFKA_SASL_PASSWORD" >"$password_file"
  elif [ ! -s "$password_file" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$password_file")
  fi
  if bash "$INFRA_DIR/kafka/add-scram-user.sh" 127.0.0.1:9092 "$user" "$password_file" "$(kafka_lib_dir)" \
    >"$(log_file kafka-scram)" 2>&1; then
    say "kafka SASL_SSL on 127.0.0.1:9094: SCRAM user $user (KAFKA_TLS_CA_FILE=$dir/ca.pem)"
  else
    tail -n 5 "$(log_file kafka-scram)" >&2
    say "WARNING: the SCRAM user $user was not added (log: $(log_file kafka-scram)); 9092 works as before"
  fi
  [ "$password_file" = "$dir/scram-password" ] || rm -f "$password_file"
}

start_kafka() {
  local pid
  if pid="$(running_pid kafka)"; then
    say "kafka already running (pid $pid) on 127.0.0.1:9092"
    return
  fi
  if port_open 9092; then
    if kafka_ready; then
      say "kafka: something not started by infra already answers on 127.0.0.1:9092; using it"
      return
    fi
    fail "port 9092 is taken by a process that is not a Kafka broker"
  fi
  require_java
  fetch_kafka
  local conf_dir="$RUN_DIR/kafka" data="$DATA_DIR/kafka"
  mkdir -p "$conf_dir" "$data"
  local java_command
  mapfile -t java_command < <(kafka_java_command)
  make_kafka_tls
  sed -e "s#@DATA_DIR@#$data#g" -e "s#@TLS_DIR@#$(kafka_tls_dir)#g" "$INFRA_DIR/kafka/server.properties" \
    >"$conf_dir/server.properties"
  if [ ! -f "$data/logs/meta.properties" ]; then
    local cluster_id
    cluster_id="$(new_cluster_id)"
    say "formatting Kafka storage in $data with cluster id $cluster_id"
    "${java_command[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$conf_dir/server.properties" \
      --standalone >"$(log_file kafka-format)" 2>&1 ||
      {
        tail -n 20 "$(log_file kafka-format)" >&2
        fail "formatting Kafka storage failed"
      }
  fi
  say "starting kafka $KAFKA_VERSION (heap $KAFKA_HEAP), log $(log_file kafka)"
  spawn kafka "${java_command[@]}" kafka.Kafka "$conf_dir/server.properties"
  wait_ready kafka "$(cat "$(pid_file kafka)")" kafka_ready
  add_kafka_scram_user
  say "kafka ready on 127.0.0.1:9092 (controller 9093, SASL_SSL 9094)"
}

# ---------------------------------------------------------------- QuestDB

questdb_jar() {
  printf '%s/.m2/repository/org/questdb/questdb/%s/questdb-%s.jar' "$HOME" "$QUESTDB_VERSION" "$QUESTDB_VERSION"
}

fetch_questdb() {
  [ -f "$(questdb_jar)" ] && return
  require_maven
  say "fetching QuestDB $QUESTDB_VERSION with Maven (cached in ~/.m2)"
  mvn -q -B -Dstyle.color=never dependency:get -Dartifact="org.questdb:questdb:$QUESTDB_VERSION" \
    -Dtransitive=false >"$(log_file maven-questdb)" 2>&1 || {
    tail -n 30 "$(log_file maven-questdb)" >&2
    fail "Maven could not fetch org.questdb:questdb:$QUESTDB_VERSION (log: $(log_file maven-questdb))"
  }
}

questdb_ready() { curl -sf --max-time 2 'http://127.0.0.1:9000/exec?query=select%201' >/dev/null; }

start_questdb() {
  local pid
  if pid="$(running_pid questdb)"; then
    say "questdb already running (pid $pid) on 127.0.0.1:9000"
    return
  fi
  if port_open 9000; then
    if questdb_ready; then
      say "questdb: something not started by infra already answers SQL on 127.0.0.1:9000; using it"
      return
    fi
    fail "port 9000 is taken by a process that is not QuestDB"
  fi
  require_java
  command -v curl >/dev/null 2>&1 || fail "curl is required to check QuestDB readiness: apt-get install -y curl"
  fetch_questdb
  local root="$DATA_DIR/questdb"
  mkdir -p "$root/conf"
  cp "$INFRA_DIR/questdb/server.conf" "$root/conf/server.conf"
  say "starting questdb $QUESTDB_VERSION (heap $QUESTDB_HEAP), log $(log_file questdb)"
  spawn questdb java -Xms128m -Xmx"$QUESTDB_HEAP" -XX:+UseParallelGC \
    -p "$(questdb_jar)" -m io.questdb/io.questdb.ServerMain -d "$root"
  wait_ready questdb "$(cat "$(pid_file questdb)")" questdb_ready
  say "questdb ready: HTTP 127.0.0.1:9000, ILP 9009, PG wire 8812"
}

# ---------------------------------------------------------------- Mosquitto

mosquitto_ready() { port_open 1883; }

install_mosquitto() {
  command -v mosquitto >/dev/null 2>&1 && return
  [ -x /usr/sbin/mosquitto ] && return
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    fail "mosquitto is not installed; install the Debian package: sudo apt-get install -y mosquitto"
  fi
  say "installing mosquitto from the Debian package"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto >"$(log_file mosquitto-install)" 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$(log_file mosquitto-install)" 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto >>"$(log_file mosquitto-install)" 2>&1 || {
      tail -n 20 "$(log_file mosquitto-install)" >&2
      fail "apt-get install mosquitto failed"
    }
  fi
}

mosquitto_bin() { command -v mosquitto 2>/dev/null || printf '/usr/sbin/mosquitto'; }

# The authenticated listeners (devices 1884, services 1885) with their password and ACL files,
# from MQTT_DEVICE_SECRET, or a secret made once and kept in infra/.data/mosquitto/device-secret
# (the platform reads the same one: MQTT_DEVICE_SECRET="$(cat infra/.data/mosquitto/device-secret)").
write_mosquitto_auth() {
  local conf_d="$1" secret_file="$DATA_DIR/mosquitto/device-secret"
  mkdir -p "$conf_d" "$DATA_DIR/mosquitto"
  if [ -z "${MQTT_DEVICE_SECRET:-}" ]; then
    if [ ! -s "$secret_file" ]; then
      (umask 077 && head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$secret_file")
    fi
    MQTT_DEVICE_SECRET="$(cat "$secret_file")"
  fi
  (cd "$REPO_DIR" && MQTT_DEVICE_SECRET="$MQTT_DEVICE_SECRET" bun infra/mosquitto/write-auth.ts "$conf_d" \
    >"$(log_file mosquitto-auth)" 2>&1) || {
    tail -n 20 "$(log_file mosquitto-auth)" >&2
    fail "writing Mosquitto's password and ACL files failed"
  }
}

start_mosquitto() {
  local pid
  if pid="$(running_pid mosquitto)"; then
    say "mosquitto already running (pid $pid) on 127.0.0.1:1883"
    return
  fi
  if port_open 1883; then
    say "mosquitto: something not started by infra already listens on 127.0.0.1:1883; using it"
    return
  fi
  install_mosquitto
  local conf_dir="$RUN_DIR/mosquitto"
  mkdir -p "$conf_dir"
  sed -e "s#@RUN_DIR@#$RUN_DIR#g" -e "s#@USER@#$(id -un)#g" "$INFRA_DIR/mosquitto/mosquitto.conf" >"$conf_dir/mosquitto.conf"
  write_mosquitto_auth "$conf_dir/conf.d"
  say "starting mosquitto, log $(log_file mosquitto)"
  spawn mosquitto "$(mosquitto_bin)" -c "$conf_dir/mosquitto.conf"
  wait_ready mosquitto "$(cat "$(pid_file mosquitto)")" mosquitto_ready
  say "mosquitto ready on 127.0.0.1:1883 (anonymous), 1884 (devices) and 1885 (services) with passwords"
}

# ---------------------------------------------------------------- Alertmanager

alertmanager_ready() { curl -sf --max-time 2 "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" >/dev/null; }

start_alertmanager() {
  local pid
  if pid="$(running_pid alertmanager)"; then
    say "alertmanager already running (pid $pid) on 127.0.0.1:$ALERTMANAGER_PORT"
    return
  fi
  if port_open "$ALERTMANAGER_PORT"; then
    alertmanager_ready || fail "port $ALERTMANAGER_PORT is taken by a process that is not Alertmanager"
    say "alertmanager: something not started by infra already answers on 127.0.0.1:$ALERTMANAGER_PORT; using it"
    return
  fi
  bash "$INFRA_DIR/alertmanager/install.sh" >"$(log_file alertmanager-install)" 2>&1 || {
    tail -n 20 "$(log_file alertmanager-install)" >&2
    fail "installing prometheus-alertmanager failed"
  }
  local conf_dir="$RUN_DIR/alertmanager" data="$DATA_DIR/alertmanager"
  mkdir -p "$conf_dir" "$data"
  cp "$INFRA_DIR/alertmanager/alertmanager.yml" "$conf_dir/alertmanager.yml"
  say "starting alertmanager, log $(log_file alertmanager)"
  # one instance, no gossip cluster (its port 9094 stays free)
  spawn alertmanager "$(command -v prometheus-alertmanager || printf /usr/bin/prometheus-alertmanager)" \
    --config.file="$conf_dir/alertmanager.yml" --storage.path="$data" \
    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --cluster.listen-address=
  wait_ready alertmanager "$(cat "$(pid_file alertmanager)")" alertmanager_ready
  say "alertmanager ready on http://127.0.0.1:$ALERTMANAGER_PORT (API /api/v2)"
}

# ----------------------------------------------------------------

main() {
  local started=$SECONDS service services
  services=("$@")
  [ "${#services[@]}" -gt 0 ] || services=("${ALL_SERVICES[@]}")
  check_services "${services[@]}"
  for service in "${services[@]}"; do
    "start_$service"
  done
  say "up: ${services[*]} in $((SECONDS - started))s"
}

main "$@"
