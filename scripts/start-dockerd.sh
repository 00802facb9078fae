#!/usr/bin/env bash
# Start a Docker engine for the sandbox when none is reachable (CI machines and dev VMs have no
# systemd). Idempotent: does nothing when `docker info` already answers.
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/rivendell-dockerd.log}
SOCKET=/var/run/docker.sock

if docker info >/dev/null 2>&1; then
  exit 0
fi
command -v dockerd >/dev/null || { echo "dockerd is not installed (apt-get install docker.io)" >&2; exit 1; }

# No iptables and no bridge: sandboxes run with --network none, so the engine needs neither, and
# leaving them out keeps the engine from rewriting the host's firewall.
# setsid: the engine must outlive the shell (and process group) that started it.
setsid nohup dockerd --storage-driver=overlay2 --iptables=false --bridge=none >"$LOG" 2>&1 </dev/null &

for _ in $(seq 1 60); do
  if [ -S "$SOCKET" ] && docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 0.5
done
echo "dockerd did not come up within 30 s; see $LOG" >&2
tail -n 20 "$LOG" >&2
exit 1
