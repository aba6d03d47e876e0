#!/usr/bin/env bash
# Stops the daemons whose PID files are given, but only those whose /proc/<pid>/cmdline still names
# DATADIR (PIDs are reused quickly). SIGTERM, wait up to 10 s, then SIGKILL.
# STOP_SIGNAL=KILL skips the grace period (for data that is wiped anyway).
#   infra/lib/stop-pids.sh DATADIR PIDFILE...
set -uo pipefail
D=$1
shift
pids=()
for f in "$@"; do
  [[ -f $f ]] || continue
  pid=$(tr -dc 0-9 <"$f")
  [[ -n $pid && -r /proc/$pid/cmdline ]] || continue
  if tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$D"; then
    kill "-${STOP_SIGNAL:-TERM}" "$pid" 2>/dev/null && pids+=("$pid")
  fi
done
for _ in $(seq 100); do
  alive=()
  for pid in "${pids[@]}"; do
    [[ -e /proc/$pid ]] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null && alive+=("$pid")
  done
  ((${#alive[@]})) || exit 0
  pids=("${alive[@]}")
  sleep 0.1
done
for pid in "${pids[@]}"; do
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$D"; then kill -KILL "$pid" 2>/dev/null; fi
done
exit 0
