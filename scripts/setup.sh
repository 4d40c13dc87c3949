#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks, for one of the commands:
#   setup.sh start    what `npm start` needs: InfluxDB 1.x (Debian package influxdb)
#   setup.sh cluster  what `npm run cluster` needs: influxdb, nats-server
#   setup.sh test     what `npm test` needs: influxdb, victoria-metrics, mosquitto-clients,
#                     chromium, nats-server, and the npm packages (npm ci)
# Installs as root or through sudo, saying what it installs. When it cannot (not root and
# no sudo, or no apt-get), it prints the one command to run on a line starting with
# "setup: run: " (app/database.ts reads it) and exits with 3.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"

case "$mode" in
  start) debs=(influxdb:influxd) ;;
  cluster) debs=(influxdb:influxd nats-server:nats-server) ;;
  test) debs=(influxdb:influxd victoria-metrics:victoria-metrics mosquitto-clients:mosquitto_sub chromium:chromium nats-server:nats-server) ;;
  *) echo "usage: scripts/setup.sh start|cluster|test" >&2; exit 2 ;;
esac

missing=()
for pair in "${debs[@]}"; do
  command -v "${pair#*:}" >/dev/null 2>&1 || missing+=("${pair%%:*}")
done

cannot_install() {
  echo "setup: cannot install ${missing[*]}: $1" >&2
  echo "setup: run: $2"
  exit 3
}

if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    cannot_install "no apt-get (not Debian/Ubuntu)" \
      "install InfluxDB 1.x (influxd) from https://docs.influxdata.com/influxdb/v1/introduction/install/ or set INFLUX_URL"
  fi
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
  elif command -v sudo >/dev/null 2>&1 && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
    SUDO=(sudo)
  else
    cannot_install "not root and no sudo" "sudo apt-get install -y ${missing[*]}"
  fi
  echo "setup: installing Debian packages: ${missing[*]} (apt-get install -y ${missing[*]})"
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "setup: installed ${missing[*]}"
fi

if [ "$mode" = test ]; then
  # The Debian packages may start system services; the tests run their own servers.
  for svc in influxdb victoria-metrics; do
    command -v service >/dev/null 2>&1 && service "$svc" stop >/dev/null 2>&1 || true
  done
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
fi
