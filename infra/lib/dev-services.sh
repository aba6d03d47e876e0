#!/usr/bin/env bash
# The shared, long-running dev services for manual experiments and WHARF_REUSE_DEV_SERVICES=1 runs:
# Ceph RGW on 7480, slapd on 7489/7490, docker-registry on 7495, Swift's s3api on 7500 (7500-7504),
# data under .wharf/, coordinates in .wharf/dev-services.env (source it).
#   infra/lib/dev-services.sh start [ceph|slapd|registry|swift]...   (default: all four, in parallel)
#   infra/lib/dev-services.sh stop
# The dev Ceph is bluestore (disk-backed, bounded memory) unless WHARF_CEPH_STORE=memstore: benchmarks
# push GiBs through it, and memstore keeps every byte in RAM until RGW garbage collection.
set -euo pipefail
ROOT=$(realpath -- "$(dirname -- "$0")/../..")
W=$ROOT/.wharf
ENV_FILE=$W/dev-services.env
declare -A PORT=([ceph]=7480 [slapd]=7489 [registry]=7495 [swift]=7500)
mkdir -p "$W"

case "${1:-}" in
start)
  shift
  services=("$@")
  ((${#services[@]})) || services=(ceph slapd registry swift)
  pids=()
  for s in "${services[@]}"; do
    [[ -n ${PORT[$s]:-} ]] || {
      echo "unknown service $s" >&2
      exit 2
    }
    WHARF_CEPH_STORE=${WHARF_CEPH_STORE:-bluestore} setsid "$ROOT/infra/$s/start.sh" "${PORT[$s]}" "$W/dev-$s" >"$W/dev-$s.env.tmp" 2>"$W/dev-$s.start.log" </dev/null &
    pids+=($!)
  done
  rc=0
  for i in "${!services[@]}"; do
    s=${services[$i]}
    if wait "${pids[$i]}"; then
      mv "$W/dev-$s.env.tmp" "$W/dev-$s.env"
    else
      rc=1
      echo "dev-services: $s failed:" >&2
      cat "$W/dev-$s.start.log" >&2
      rm -f "$W/dev-$s.env.tmp"
    fi
  done
  {
    echo "# Shared dev services (infra/lib/dev-services.sh). Source this file."
    for s in ceph slapd registry swift; do [[ -f $W/dev-$s.env ]] && cat "$W/dev-$s.env"; done
  } >"$ENV_FILE.tmp"
  mv "$ENV_FILE.tmp" "$ENV_FILE"
  cat "$ENV_FILE"
  exit $rc
  ;;
stop)
  for s in ceph slapd registry swift; do
    "$ROOT/infra/$s/stop.sh" "$W/dev-$s" --wipe
    rm -f "$W/dev-$s.env"
  done
  rm -f "$ENV_FILE"
  ;;
*)
  echo "usage: $0 start [ceph|slapd|registry|swift]... | stop" >&2
  exit 2
  ;;
esac
