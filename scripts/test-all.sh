#!/usr/bin/env bash
# The whole test suite, as the README's test command and CI run it:
# real servers up (Kafka, QuestDB, Mosquitto from infra/), then format + lint, type-check
# (tests included), and `bun test`. Exits non-zero on the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== test tools: Chromium, Prometheus and promtool from Debian (scripts/install-test-tools.sh)"
bash scripts/install-test-tools.sh

echo "== infra: starting Kafka, QuestDB and Mosquitto (infra/up.sh)"
bash infra/up.sh
bash infra/python.sh # the venv with delta-rs (deltalake) the lake conformance tests read and write with
export KAFKA_BROKERS="${KAFKA_BROKERS:-localhost:9092}"
export QUESTDB_URL="${QUESTDB_URL:-http://localhost:9000}"
export MOSQUITTO_URL="${MOSQUITTO_URL:-mqtt://127.0.0.1:1883}"

echo "== lint and format (biome)"
./node_modules/.bin/biome check .

echo "== type-check (tsc, tests included)"
./node_modules/.bin/tsc --noEmit -p tsconfig.json

echo "== tests (bun test)"
# integration tests start real servers and whole nodes: give each test room on 2 cores
bun test --timeout 60000
