#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine: npm packages and the Debian
# packages of the real services (InfluxDB 1.x, VictoriaMetrics, mosquitto clients,
# Chromium). Says exactly what is missing when it cannot install.
set -euo pipefail
cd "$(dirname "$0")/.."

debs=(influxdb:influxd victoria-metrics:victoria-metrics mosquitto-clients:mosquitto_sub chromium:chromium nats-server:nats-server)
missing=()
for pair in "${debs[@]}"; do
  command -v "${pair#*:}" >/dev/null 2>&1 || missing+=("${pair%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root to run: apt-get install -y ${missing[*]}" >&2; exit 1; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The Debian packages may start system services; the tests run their own servers.
for svc in influxdb victoria-metrics; do
  command -v service >/dev/null 2>&1 && service "$svc" stop >/dev/null 2>&1 || true
done

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
