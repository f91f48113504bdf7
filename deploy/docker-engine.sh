#!/usr/bin/env bash
# Make a Docker engine answer on /var/run/docker.sock, for the docker sandbox and its tests, then
# build the sandbox's images (deploy/sandbox-images.sh). Idempotent: an engine that already
# answers is left as it is, and images that exist are not built again.
#
# Where none runs, and this is root on Debian: install docker.io (dockerd, containerd, runc),
# runsc (gVisor), mmdebstrap and docker-compose (1.29, for deploy/docker-compose.yml), and start
#   dockerd --config-file /etc/huiyan/dockerd.json
# in the background, its log in $HUIYAN_DOCKERD_LOG (/var/log/huiyan-dockerd.log). The
# configuration makes no bridge and no private network, touches no iptables and declares gVisor
# as the runtime "runsc" (ptrace platform, no network: the only mode this runsc offers here).
# Models only ever run with --network none.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
LOG="${HUIYAN_DOCKERD_LOG:-/var/log/huiyan-dockerd.log}"
CONFIG=/etc/huiyan/dockerd.json

answers() { docker info >/dev/null 2>&1; }

install_missing() {
  local wanted=()
  command -v dockerd >/dev/null 2>&1 || wanted+=(docker.io)
  command -v runsc >/dev/null 2>&1 || wanted+=(runsc)
  command -v mmdebstrap >/dev/null 2>&1 || wanted+=(mmdebstrap)
  command -v docker-compose >/dev/null 2>&1 || wanted+=(docker-compose)
  [ ${#wanted[@]} = 0 ] && return 0
  echo "docker-engine: installing ${wanted[*]}" >&2
  apt-get install -y -q --no-install-recommends "${wanted[@]}" >/dev/null 2>&1 || \
    (apt-get update -q >/dev/null && \
     apt-get install -y -q --no-install-recommends "${wanted[@]}" >/dev/null)
}

write_config() {
  mkdir -p "$(dirname "$CONFIG")"
  local runtimes=""
  if command -v runsc >/dev/null 2>&1; then
    runtimes=",
  \"runtimes\": {
    \"runsc\": {\"path\": \"$(command -v runsc)\",
              \"runtimeArgs\": [\"--network=none\", \"--platform=ptrace\"]}
  }"
  fi
  cat >"$CONFIG" <<EOF
{
  "bridge": "none",
  "iptables": false,
  "ip-forward": false,
  "ip-masq": false,
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "1"}$runtimes
}
EOF
}

start_engine() {
  echo "docker-engine: starting dockerd (log: $LOG)" >&2
  mkdir -p "$(dirname "$LOG")"
  setsid dockerd --config-file "$CONFIG" >>"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    answers && return 0
    sleep 0.5
  done
  echo "docker-engine: dockerd did not answer within 60 s; the end of $LOG:" >&2
  tail -n 20 "$LOG" >&2
  return 1
}

if ! answers; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "warning: no Docker engine answers and this is not root on Debian: the docker" \
         "sandbox's tests skip (and fail under CI=true)" >&2
    exit 0
  fi
  install_missing
  write_config
  start_engine
elif [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  install_missing  # an engine that answers may still lack docker-compose or mmdebstrap
fi

if command -v runsc >/dev/null 2>&1 && ! docker info --format '{{json .Runtimes}}' | grep -q '"runsc"'; then
  echo "warning: runsc is installed but this engine does not offer it as a runtime; add it to" \
       "the daemon's configuration (see $CONFIG) to run models under gVisor" >&2
fi

bash "$HERE/sandbox-images.sh"
