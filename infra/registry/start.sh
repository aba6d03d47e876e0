#!/usr/bin/env bash
# Private docker-registry (distribution 2.8) on loopback, filesystem storage, delete enabled
# (real-services.md §3). Every file under DATADIR, which is wiped first.
#   infra/registry/start.sh PORT DATADIR
# Auth, by WHARF_REGISTRY_AUTH:
#   none (default)
#   htpasswd  bcrypt users from WHARF_REGISTRY_USERS="user:pass user2:pass2" (default "admin:<random>")
#   token     GitLab-style bearer tokens: WHARF_REGISTRY_TOKEN_REALM (URL), WHARF_REGISTRY_TOKEN_CERT (PEM
#             bundle that signs the tokens), optional WHARF_REGISTRY_TOKEN_ISSUER (gitlab-issuer) and
#             WHARF_REGISTRY_TOKEN_SERVICE (container_registry)
# Prints eval-able KEY=value lines. Stop with infra/registry/stop.sh DATADIR.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 PORT DATADIR" >&2
  exit 2
fi
P=$1
[[ $P =~ ^[0-9]+$ ]] && ((P > 1024 && P < 65536)) || {
  echo "registry: bad port '$P'" >&2
  exit 2
}
D=$(realpath -m -- "$2")
case "$D" in / | /tmp | /work | /work/main | "$HOME") echo "registry: refusing DATADIR $D" >&2 && exit 2 ;; esac
HERE=$(dirname -- "$(realpath -- "$0")")
AUTH=${WHARF_REGISTRY_AUTH:-none}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

fail() {
  echo "registry: FAILED: $*" >&2
  [[ -s $D/registry.log ]] && {
    echo "---- last lines of $D/registry.log" >&2
    tail -n 25 "$D/registry.log" >&2
  }
  STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
  exit 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
random() { head -c "$1" /dev/urandom | base64 | tr -d '/+=\n'; }

[[ -d $D ]] && STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
port_free "$P" || {
  echo "registry: port $P is already in use" >&2
  exit 1
}
rm -rf -- "$D"
mkdir -p "$D/data"

OUT=()
case "$AUTH" in
none) AUTH_YAML="" ;;
htpasswd)
  USERS=${WHARF_REGISTRY_USERS:-admin:$(random 18)}
  for pair in $USERS; do
    [[ $pair == *:* ]] || fail "WHARF_REGISTRY_USERS entry '$pair' is not user:pass"
    /usr/bin/python3 -c 'import crypt, sys; u, p = sys.argv[1].split(":", 1); print(f"{u}:{crypt.crypt(p, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))}")' \
      "$pair" 2>/dev/null >>"$D/htpasswd" || fail "bcrypt hashing"
  done
  first=${USERS%% *}
  OUT+=("WHARF_REGISTRY_USER=${first%%:*}" "WHARF_REGISTRY_PASSWORD=${first#*:}")
  AUTH_YAML="auth:
  htpasswd:
    realm: basic-realm
    path: $D/htpasswd"
  ;;
token)
  : "${WHARF_REGISTRY_TOKEN_REALM:?token auth needs WHARF_REGISTRY_TOKEN_REALM}"
  : "${WHARF_REGISTRY_TOKEN_CERT:?token auth needs WHARF_REGISTRY_TOKEN_CERT}"
  cp -- "$WHARF_REGISTRY_TOKEN_CERT" "$D/token-certs.pem"
  AUTH_YAML="auth:
  token:
    realm: $WHARF_REGISTRY_TOKEN_REALM
    service: ${WHARF_REGISTRY_TOKEN_SERVICE:-container_registry}
    issuer: ${WHARF_REGISTRY_TOKEN_ISSUER:-gitlab-issuer}
    rootcertbundle: $D/token-certs.pem
    autoredirect: false"
  ;;
*) fail "WHARF_REGISTRY_AUTH must be none, htpasswd or token" ;;
esac

cat >"$D/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $D/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$P
  secret: $(random 24)
health:
  storagedriver:
    enabled: false
$AUTH_YAML
EOF

# The S3 driver panics when AWS_CA_BUNDLE is set (§3); the filesystem one does not care, but stay safe.
env -u AWS_CA_BUNDLE setsid docker-registry serve "$D/config.yml" >"$D/registry.log" 2>&1 </dev/null &
PID=$!
echo "$PID" >"$D/registry.pid"
deadline=$((SECONDS + 20))
# /v2/ answers 200 without auth and 401 with auth: either means it is listening.
until code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P/v2/") && [[ $code == 200 || $code == 401 ]]; do
  [[ -e /proc/$PID ]] || fail "docker-registry exited during start"
  ((SECONDS < deadline)) || fail "timed out waiting for http://127.0.0.1:$P/v2/"
  sleep 0.05
done

echo "WHARF_REGISTRY_URL=http://127.0.0.1:$P"
echo "WHARF_REGISTRY_AUTH=$AUTH"
for line in "${OUT[@]}"; do echo "$line"; done
echo "WHARF_REGISTRY_DATADIR=$D"
echo "WHARF_REGISTRY_PID=$PID"
