#!/usr/bin/env bash
# Idempotent installer of Debian's prometheus-alertmanager (the binary only: the package's
# systemd unit is not used, infra/up.sh runs it as a plain process on its own port).
# Waits for the dpkg lock, since other infra installers may run at the same time.
set -euo pipefail
alertmanager_bin() {
  command -v prometheus-alertmanager 2>/dev/null || { [ -x /usr/bin/prometheus-alertmanager ] && printf '/usr/bin/prometheus-alertmanager'; }
}
if alertmanager_bin >/dev/null; then exit 0; fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "prometheus-alertmanager is not installed; install the Debian package: sudo apt-get install -y prometheus-alertmanager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# the package's postinst would start it under systemd where there is one; policy-rc.d says no
apt_install() { apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends prometheus-alertmanager; }
if ! apt_install; then
  apt-get -o DPkg::Lock::Timeout=300 update -q
  apt_install
fi
alertmanager_bin >/dev/null
