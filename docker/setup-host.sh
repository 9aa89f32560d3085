#!/usr/bin/env bash
# Prepare a fresh Debian machine for the demo and the tests: Docker and debootstrap from
# apt, a Docker daemon if none answers, and the pipeline base images (built offline).
# Idempotent: every step is skipped when already done.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

need_apt=()
# A docker client alone (without the daemon) is not enough: dockerd comes with docker.io.
{ command -v docker >/dev/null 2>&1 && command -v dockerd >/dev/null 2>&1; } \
  || docker info >/dev/null 2>&1 || need_apt+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_apt+=(debootstrap)
command -v make >/dev/null 2>&1 || need_apt+=(make)
# The UI plugin's browser tests drive Debian's headless Chromium.
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
# The Celery deployment of the tests: redis as broker, PostgreSQL as database and backend.
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} from apt"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "setup: starting dockerd (no bridge: containers get loopback only)"
  as_root mkdir -p /var/log
  # Started detached so it outlives this script; its log says why if it fails.
  as_root nohup dockerd --bridge=none --iptables=false --ip-masq=false \
    >/var/log/airflow-pachyderm-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "setup: dockerd did not come up; see /var/log/airflow-pachyderm-dockerd.log" >&2
    tail -n 20 /var/log/airflow-pachyderm-dockerd.log >&2 || true
    exit 1
  fi
fi

bash "$here/build-images.sh"
