#!/usr/bin/env bash
# Stops the Azurite started by infra/azurite/start.sh on DATADIR (by PID file, cmdline-checked).
#   infra/azurite/stop.sh DATADIR [--wipe]
set -uo pipefail
(($# >= 1)) || {
  echo "usage: $0 DATADIR [--wipe]" >&2
  exit 2
}
D=$(realpath -m -- "$1")
HERE=$(dirname -- "$(realpath -- "$0")")
[[ ${2:-} == --wipe ]] && export STOP_SIGNAL=KILL
"$HERE/../lib/stop-pids.sh" "$D" "$D/azurite.pid"
[[ ${2:-} == --wipe ]] && rm -rf -- "$D"
exit 0
