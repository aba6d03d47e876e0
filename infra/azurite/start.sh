#!/usr/bin/env bash
# Azurite's Blob service (Microsoft's Azure Storage emulator, npm package `azurite`) on loopback, its
# data under DATADIR, which is wiped first. Account devstoreaccount1 with Microsoft's published key.
#   infra/azurite/start.sh PORT DATADIR
# Needs `pnpm install` (azurite is a root devDependency) and node on PATH.
# Prints eval-able KEY=value lines. Stop with infra/azurite/stop.sh DATADIR.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 PORT DATADIR" >&2
  exit 2
fi
P=$1
[[ $P =~ ^[0-9]+$ ]] && ((P > 1024 && P < 65536)) || {
  echo "azurite: bad port '$P'" >&2
  exit 2
}
D=$(realpath -m -- "$2")
case "$D" in / | /tmp | /work | /work/main | "$HOME") echo "azurite: refusing DATADIR $D" >&2 && exit 2 ;; esac
HERE=$(dirname -- "$(realpath -- "$0")")
BIN=$(realpath -m -- "$HERE/../../node_modules/.bin/azurite-blob")
[[ -x $BIN ]] || {
  echo "azurite: $BIN is missing (run ./wharf setup)" >&2
  exit 1
}
command -v node >/dev/null || {
  echo "azurite: node is not on PATH" >&2
  exit 1
}

fail() {
  echo "azurite: FAILED: $*" >&2
  [[ -s $D/azurite.log ]] && {
    echo "---- last lines of $D/azurite.log" >&2
    tail -n 25 "$D/azurite.log" >&2
  }
  STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
  exit 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[[ -d $D ]] && STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
port_free "$P" || {
  echo "azurite: port $P is already in use" >&2
  exit 1
}
rm -rf -- "$D"
mkdir -p "$D/data"

# --skipApiVersionCheck: current @azure/storage-blob sends a newer x-ms-version than Azurite knows.
# --loose: Azurite ignores headers it does not implement instead of failing the request.
setsid "$BIN" --blobHost 127.0.0.1 --blobPort "$P" -l "$D/data" --silent --skipApiVersionCheck --loose \
  >"$D/azurite.log" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$D/azurite.pid"
deadline=$((SECONDS + 30))
# Any HTTP answer (an anonymous request is refused with 403) means it is listening.
until code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/devstoreaccount1?comp=list") &&
  [[ $code != 000 ]]; do
  [[ -e /proc/$PID ]] || fail "azurite exited during start"
  ((SECONDS < deadline)) || fail "timed out waiting for http://127.0.0.1:$P/"
  sleep 0.05
done

echo "WHARF_AZURE_ENDPOINT=http://127.0.0.1:$P/devstoreaccount1"
echo "WHARF_AZURE_ACCOUNT=devstoreaccount1"
# Azurite's well-known development key, published by Microsoft; not a secret.
echo "WHARF_AZURE_KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
echo "WHARF_AZURE_DATADIR=$D"
echo "WHARF_AZURE_PID=$PID"
