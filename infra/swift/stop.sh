#!/usr/bin/env bash
# Stops the Swift servers and memcached started by infra/swift/start.sh on DATADIR (by PID file,
# cmdline-checked).
#   infra/swift/stop.sh DATADIR [--wipe]
set -uo pipefail
(($# >= 1)) || {
  echo "usage: $0 DATADIR [--wipe]" >&2
  exit 2
}
D=$(realpath -m -- "$1")
HERE=$(dirname -- "$(realpath -- "$0")")
[[ ${2:-} == --wipe ]] && export STOP_SIGNAL=KILL
# The proxy first, so no request reaches a storage server that is going away.
"$HERE/../lib/stop-pids.sh" "$D" "$D/run/proxy.pid"
"$HERE/../lib/stop-pids.sh" "$D" "$D"/run/{object,container,account,memcached}.pid
[[ ${2:-} == --wipe ]] && rm -rf -- "$D"
exit 0
