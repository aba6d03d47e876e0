#!/usr/bin/env bash
# OpenStack Swift 2.30 with its S3 layer (s3api) on loopback, every file under DATADIR
# (real-services.md §1.2): a second S3 implementation, one without conditional writes or browser POST.
#   infra/swift/start.sh PORT DATADIR
# Ports: PORT = proxy (S3), PORT+1 object, PORT+2 container, PORT+3 account, PORT+4 memcached.
# DATADIR is wiped first and must be on a filesystem with user xattrs (ext4, xfs).
# On success prints eval-able KEY=value lines on stdout; progress goes to stderr.
# Stop with infra/swift/stop.sh DATADIR.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 PORT DATADIR" >&2
  exit 2
fi
P=$1
[[ $P =~ ^[0-9]+$ ]] && ((P > 1024 && P < 65530)) || {
  echo "swift: bad port '$P'" >&2
  exit 2
}
D=$(realpath -m -- "$2")
case "$D" in / | /tmp | /work | /work/main | "$HOME") echo "swift: refusing DATADIR $D" >&2 && exit 2 ;; esac
HERE=$(dirname -- "$(realpath -- "$0")")
T0=${EPOCHREALTIME/./}
# Swift must not pick up a pyenv python.
export PATH=/usr/bin:/usr/sbin:/bin:/sbin

log() {
  local us=$((${EPOCHREALTIME/./} - T0))
  printf 'swift[%s +%d.%01ds]: %s\n' "$P" $((us / 1000000)) $((us % 1000000 / 100000)) "$*" >&2
}
fail() {
  echo "swift: FAILED: $*" >&2
  for f in "$D"/log/*.log; do
    [[ -s $f ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 25 "$f" >&2
  done
  STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
  exit 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
random() { head -c "$1" /dev/urandom | base64 | tr -d '/+=\n'; }

[[ -d $D ]] && STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
for port in $(seq "$P" $((P + 4))); do port_free "$port" || {
  echo "swift: port $port is already in use" >&2
  exit 1
}; done
rm -rf -- "$D"
mkdir -p "$D"/{etc,srv/sdb1,run,log,cache}
E=$D/etc
USER_NAME=$(id -un)

cat >"$E/swift.conf" <<CONF
[swift-hash]
swift_hash_path_suffix = $(random 12)
swift_hash_path_prefix = $(random 12)

[storage-policy:0]
name = Policy-0
default = yes
CONF

# server NAME PORT EXTRA: the config of one storage server.
server() {
  cat >"$E/$1-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = $USER_NAME
swift_dir = $E
devices = $D/srv
mount_check = false
log_name = $1
log_level = WARNING
recon_cache_path = $D/cache

[pipeline:main]
pipeline = healthcheck $1-server

[filter:healthcheck]
use = egg:swift#healthcheck

[app:$1-server]
use = egg:swift#$1
$3
CONF
}
server object $((P + 1)) ""
server container $((P + 2)) "allow_versions = true"
server account $((P + 3)) ""

AK=test:tester
SK=$(random 24)
AK2=test2:tester2
SK2=$(random 24)
cat >"$E/proxy-server.conf" <<CONF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $P
workers = 0
user = $USER_NAME
swift_dir = $E
log_name = proxy
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl ratelimit s3api tempauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
allow_multipart_uploads = true

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = $SK .admin
user_test2_tester2 = $SK2 .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$((P + 4))

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true
allow_object_versioning = true

CONF

# The pipeline's plain middlewares: one section each, SECTION:ENTRY_POINT.
for filter in catch_errors:catch_errors gatekeeper:gatekeeper healthcheck:healthcheck \
  proxy-logging:proxy_logging listing_formats:listing_formats bulk:bulk tempurl:tempurl \
  ratelimit:ratelimit copy:copy container-quotas:container_quotas account-quotas:account_quotas \
  slo:slo dlo:dlo symlink:symlink; do
  printf '\n[filter:%s]\nuse = egg:swift#%s\n' "${filter%%:*}" "${filter##*:}"
done >>"$E/proxy-server.conf"

# The three rings (object, container, account), one device each, built in one Python process:
# swift-ring-builder costs an interpreter start per step (9 of them, ~20 s on a loaded machine).
python3 - "$E" "$P" >"$D/log/rings.log" 2>&1 <<'PY' || fail "ring building (see $D/log/rings.log)"
import sys
from swift.common.ring import RingBuilder
etc, port = sys.argv[1], int(sys.argv[2])
for offset, name in enumerate(["object", "container", "account"], start=1):
    builder = RingBuilder(8, 1, 1)
    builder.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port + offset,
                     "device": "sdb1", "weight": 100})
    builder.rebalance()
    builder.save(f"{etc}/{name}.builder")
    builder.get_ring().save(f"{etc}/{name}.ring.gz")
PY
log "rings built"

# start NAME COMMAND...: runs a daemon in its own session, its PID in run/NAME.pid.
start() {
  local name=$1
  shift
  setsid "$@" >"$D/log/$name.log" 2>&1 </dev/null &
  echo $! >"$D/run/$name.pid"
}
start memcached memcached -l 127.0.0.1 -p $((P + 4)) -U 0 -m 64 -u "$USER_NAME" -P "$D/run/memcached.self.pid"
for name in object container account; do start "$name" "swift-$name-server" "$E/$name-server.conf"; done
start proxy swift-proxy-server "$E/proxy-server.conf"
healthy() { for port in "$@"; do curl -fs -o /dev/null "http://127.0.0.1:$port/healthcheck" || return 1; done; }
deadline=$((SECONDS + 60))
until healthy "$P" $((P + 1)) $((P + 2)) $((P + 3)); do
  for f in "$D"/run/{object,container,account,proxy}.pid; do
    [[ -e /proc/$(cat "$f") ]] || fail "$(basename "$f" .pid) server exited during start"
  done
  ((SECONDS < deadline)) || fail "timed out waiting for the Swift servers"
  sleep 0.1
done
log "ready"

PIDS=""
for f in "$D"/run/{memcached,object,container,account,proxy}.pid; do PIDS+="$(cat "$f") "; done
cat <<OUT
WHARF_SWIFT_S3_ENDPOINT=http://127.0.0.1:$P
WHARF_SWIFT_S3_REGION=us-east-1
WHARF_SWIFT_S3_ACCESS_KEY_ID=$AK
WHARF_SWIFT_S3_SECRET_ACCESS_KEY=$SK
WHARF_SWIFT_S3_ACCESS_KEY_ID_2=$AK2
WHARF_SWIFT_S3_SECRET_ACCESS_KEY_2=$SK2
WHARF_SWIFT_DATADIR=$D
WHARF_SWIFT_PIDS="${PIDS% }"
OUT
