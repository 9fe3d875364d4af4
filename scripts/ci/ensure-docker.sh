#!/usr/bin/env bash
# Makes a Docker daemon reachable: installs docker.io and debootstrap when missing
# and starts dockerd when nothing answers. Runs as root; the daemon outlives the run
# so its images stay cached for the next one.
set -euo pipefail

log_file=${DOCKERD_LOG:-/var/log/image-api-dockerd.log}
log() { echo "[ensure-docker] $*" >&2; }

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if ((${#missing[@]})); then
  log "installing ${missing[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if docker info >/dev/null 2>&1; then
  exit 0
fi

log "starting dockerd (log: $log_file) ..."
setsid nohup dockerd >>"$log_file" 2>&1 </dev/null &
for _ in $(seq 1 120); do
  docker info >/dev/null 2>&1 && { log "dockerd is up"; exit 0; }
  sleep 0.5
done
tail -n 40 "$log_file" >&2
log "dockerd did not come up within 60s"
exit 1
