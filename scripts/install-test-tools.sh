#!/usr/bin/env bash
# What the tests need beyond the servers infra/up.sh starts, from Debian's packages (nothing is
# downloaded by the test tools themselves): Chromium for the dashboard tests (playwright-core
# drives the system's browser) and Prometheus with promtool for the ops/ tests. Idempotent:
# quiet and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/apt.sh chromium chromium prometheus prometheus prometheus promtool
