#!/usr/bin/env bash
# Single-node Ceph RGW (S3) on loopback, no systemd, every file under DATADIR (real-services.md §1.1).
#   infra/ceph/start.sh PORT DATADIR
# Ports: PORT = S3 (beast), PORT+1 = monitor (msgr v2 only), PORT+3..PORT+8 = OSD messengers.
# WHARF_CEPH_STORE=memstore (default, fastest, data lost on stop) | bluestore (sparse 20 GiB file).
# WHARF_CEPH_ACCESS_KEY_ID / _SECRET_ACCESS_KEY (and _2) fix the users' keys instead of random ones.
# DATADIR is wiped first. On success prints eval-able KEY=value lines on stdout; progress goes to stderr.
# Stop with infra/ceph/stop.sh DATADIR.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 PORT DATADIR" >&2
  exit 2
fi
P=$1
[[ $P =~ ^[0-9]+$ ]] && ((P > 1024 && P < 65527)) || {
  echo "ceph: bad port '$P'" >&2
  exit 2
}
D=$(realpath -m -- "$2")
case "$D" in / | /tmp | /work | /work/main | "$HOME") echo "ceph: refusing DATADIR $D" >&2 && exit 2 ;; esac
STORE=${WHARF_CEPH_STORE:-memstore}
case "$STORE" in memstore | bluestore) ;; *) echo "ceph: WHARF_CEPH_STORE must be memstore or bluestore" >&2 && exit 2 ;; esac
HERE=$(dirname -- "$(realpath -- "$0")")
T0=${EPOCHREALTIME/./}
# Ceph tools must not pick up a pyenv python or the caller's CA bundle.
export PATH=/usr/bin:/usr/sbin:/bin:/sbin
unset AWS_CA_BUNDLE CEPH_ARGS

log() {
  local us=$((${EPOCHREALTIME/./} - T0))
  printf 'ceph[%s +%d.%01ds]: %s\n' "$P" $((us / 1000000)) $((us % 1000000 / 100000)) "$*" >&2
}
fail() {
  echo "ceph: FAILED: $*" >&2
  for f in "$D"/log/*.log; do
    [[ -s $f ]] || continue
    echo "---- last lines of $f" >&2
    tail -n 25 "$f" >&2
  done
  STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
  exit 1
}
# wait_for SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
  local deadline=$(($(date +%s) + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || fail "timed out waiting for $what"
    sleep 0.1
  done
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A previous instance on this DATADIR is stopped, then everything is wiped (memstore cannot restart).
[[ -d $D ]] && "$HERE/stop.sh" "$D" --wipe >/dev/null 2>&1 || true
for port in "$P" $((P + 1)); do port_free "$port" || {
  echo "ceph: port $port is already in use" >&2
  exit 1
}; done

rm -rf -- "$D"
mkdir -p "$D"/{run,log,mon,osd/ceph-0,rgw,crash,tmp}

FSID=$(cat /proc/sys/kernel/random/uuid)
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
MON_ADDR="[v2:127.0.0.1:$((P + 1))]"
C="$D/ceph.conf"
cat >"$C" <<EOF
[global]
fsid = $FSID
mon_host = $MON_ADDR
public_addr = 127.0.0.1
public_network = 127.0.0.0/8
cluster_network = 127.0.0.0/8
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr1 = false
ms_bind_port_min = $((P + 3))
ms_bind_port_max = $((P + 8))
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = $D/keyring
run_dir = $D/run
admin_socket = $D/run/\$name.asok
pid_file = $D/run/\$name.pid
log_file = $D/log/\$name.log
log_to_stderr = false
err_to_stderr = true
crash_dir = $D/crash
exporter_sock_dir = $D/run
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
osd_crush_chooseleaf_type = 0
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 5
mon_allow_pool_delete = true
auth_allow_insecure_global_id_reclaim = false
mon_warn_on_insecure_global_id_reclaim_allowed = false

[mon]
paxos_propose_interval = 0.1
mon_data = $D/mon/\$cluster-\$id
mon_initial_members = a

[osd]
osd_data = $D/osd/\$cluster-\$id
keyring = $D/osd/\$cluster-\$id/keyring
osd_objectstore = $STORE
memstore_device_bytes = 16G
bluestore_block_create = true
bluestore_block_size = 21474836480
bluestore_fsck_on_mount = false
osd_memory_target = 1073741824
osd_max_object_name_len = 2048
osd_max_object_namespace_len = 256

[client.rgw.gw]
keyring = $D/rgw/keyring
rgw_frontends = beast endpoint=127.0.0.1:$P
rgw_data = $D/rgw
rgw_thread_pool_size = 64
rgw_init_timeout = 60
# Deleted objects' data is reclaimed within about a minute, not after the default 2 hours: benches
# that push and delete GiBs otherwise fill the OSD (bluestore 20 GiB, memstore 16 GiB of RAM).
rgw_gc_obj_min_wait = 30
rgw_gc_processor_period = 30
rgw_gc_processor_max_time = 30
EOF

# All cephx keys are generated offline and put into the monitor's initial keyring, so the OSD and
# RGW need no `ceph auth` round trips and the OSD mkfs can run before the monitor is up.
OSD_KEY=$(ceph-authtool --gen-print-key)
{
  ceph-authtool -C "$D/keyring" --gen-key -n mon. --cap mon 'allow *'
  ceph-authtool "$D/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *'
  ceph-authtool "$D/keyring" --gen-key -n client.rgw.gw --cap mon 'allow rw' --cap osd 'allow rwx' --cap mgr 'allow rw'
  ceph-authtool "$D/keyring" --add-key "$OSD_KEY" -n osd.0 \
    --cap mon 'allow profile osd' --cap mgr 'allow profile osd' --cap osd 'allow *'
  ceph-authtool -C "$D/osd/ceph-0/keyring" -n osd.0 --add-key "$OSD_KEY"
  ceph-authtool -C "$D/rgw/keyring" -n client.rgw.gw --add-key "$(ceph-authtool "$D/keyring" -p -n client.rgw.gw)"
  monmaptool --create --fsid "$FSID" --addv a "$MON_ADDR" "$D/monmap"
} >"$D/log/setup.log" 2>&1 || fail "key/monmap generation (see $D/log/setup.log)"

# OSD mkfs (offline, --no-mon-config) runs in parallel with the monitor's mkfs and start.
(ceph-osd -c "$C" -i 0 --mkfs --osd-uuid "$OSD_UUID" --no-mon-config >"$D/log/osd-mkfs.log" 2>&1) &
MKFS_PID=$!
ceph-mon -c "$C" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring" >"$D/log/mon-mkfs.log" 2>&1 ||
  fail "ceph-mon --mkfs (see $D/log/mon-mkfs.log)"
ceph-mon -c "$C" -i a >>"$D/log/mon-mkfs.log" 2>&1 || fail "ceph-mon start"
log "monitor started"

# Register osd.0 (its key is already in the auth database) and create RGW's pools now, while the
# OSD boots, so that the PGs of every pool peer in one go rather than one pool at a time.
cephc() { timeout 30 ceph -c "$C" --connect-timeout 20 "$@"; }
OSD_ID=$(cephc osd new "$OSD_UUID" 0 2>>"$D/log/setup.log") || fail "ceph osd new"
[[ $OSD_ID == 0 ]] || fail "ceph osd new returned id '$OSD_ID', expected 0"
wait "$MKFS_PID" || fail "ceph-osd --mkfs (see $D/log/osd-mkfs.log)"
ceph-osd -c "$C" -i 0 >>"$D/log/osd-mkfs.log" 2>&1 || fail "ceph-osd start"
log "osd started"
POOLS=(.rgw.root default.rgw.control default.rgw.meta default.rgw.log default.rgw.buckets.index
  default.rgw.buckets.data default.rgw.buckets.non-ec)
python3 - "$C" "${POOLS[@]}" >>"$D/log/setup.log" 2>&1 <<'PY' || fail "pool creation (see $D/log/setup.log)"
# One thread per pool: the monitor folds concurrent commands into one Paxos proposal.
import json, sys, threading, rados
conf, pools = sys.argv[1], sys.argv[2:]
errors = []
def make(r, pool):
    for cmd in ({"prefix": "osd pool create", "pool": pool, "pg_num": 8, "pgp_num": 8},
                {"prefix": "osd pool application enable", "pool": pool, "app": "rgw"}):
        ret, _, err = r.mon_command(json.dumps(cmd), b"", timeout=30)
        if ret != 0:
            errors.append(f"{cmd}: {ret} {err}")
            return
with rados.Rados(conffile=conf, name="client.admin", conf={"client_mount_timeout": "20"}) as r:
    threads = [threading.Thread(target=make, args=(r, p)) for p in pools]
    for t in threads: t.start()
    for t in threads: t.join()
sys.exit("\n".join(errors) if errors else 0)
PY
log "pools created"

AK=${WHARF_CEPH_ACCESS_KEY_ID:-WHARF$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)}
SK=${WHARF_CEPH_SECRET_ACCESS_KEY:-$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n')}
AK2=${WHARF_CEPH_ACCESS_KEY_ID_2:-WHARF2$(head -c 7 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)}
SK2=${WHARF_CEPH_SECRET_ACCESS_KEY_2:-$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n')}
# The first radosgw-admin creates the default realm/zone objects (RGW would otherwise); then RGW
# starts while the second user is created.
radosgw-admin -c "$C" -n client.admin user create --uid=wharf --display-name="Wharf Test" \
  --access-key="$AK" --secret-key="$SK" >"$D/log/user.log" 2>&1 || fail "radosgw-admin user create (see $D/log/user.log)"
radosgw-admin -c "$C" -n client.admin user create --uid=wharf2 --display-name="Wharf Second" \
  --access-key="$AK2" --secret-key="$SK2" >"$D/log/user2.log" 2>&1 &
USER2_PID=$!
radosgw -c "$C" -n client.rgw.gw >"$D/log/rgw-start.log" 2>&1 || fail "radosgw start"
wait "$USER2_PID" || fail "radosgw-admin user create wharf2 (see $D/log/user2.log)"
wait_for 90 "RGW on http://127.0.0.1:$P/" curl -fsS -o /dev/null "http://127.0.0.1:$P/"
log "users created, rgw answering: ready"

PIDS=""
for f in "$D"/run/*.pid; do PIDS+="$(cat "$f") "; done
cat <<EOF
WHARF_S3_ENDPOINT=http://127.0.0.1:$P
WHARF_S3_REGION=us-east-1
WHARF_S3_ACCESS_KEY_ID=$AK
WHARF_S3_SECRET_ACCESS_KEY=$SK
WHARF_S3_ACCESS_KEY_ID_2=$AK2
WHARF_S3_SECRET_ACCESS_KEY_2=$SK2
WHARF_CEPH_DATADIR=$D
WHARF_CEPH_PIDS="${PIDS% }"
EOF
