#!/usr/bin/env bash
# Stops the Ceph daemons started by infra/ceph/start.sh on DATADIR (by PID file, cmdline-checked).
#   infra/ceph/stop.sh DATADIR [--wipe]
set -uo pipefail
(($# >= 1)) || {
  echo "usage: $0 DATADIR [--wipe]" >&2
  exit 2
}
D=$(realpath -m -- "$1")
HERE=$(dirname -- "$(realpath -- "$0")")
# --wipe: the data is thrown away, so no graceful shutdown (memstore would save itself to disk first).
[[ ${2:-} == --wipe ]] && export STOP_SIGNAL=KILL
# RGW first, so it does not log a storm of errors while the OSD and monitor go away.
"$HERE/../lib/stop-pids.sh" "$D" "$D"/run/client.rgw.gw.pid
"$HERE/../lib/stop-pids.sh" "$D" "$D"/run/*.pid
[[ ${2:-} == --wipe ]] && rm -rf -- "$D"
exit 0
