#!/usr/bin/env bash
# Private OpenLDAP slapd on loopback, every file under DATADIR (real-services.md §2).
#   infra/slapd/start.sh PORT DATADIR
# ldap://127.0.0.1:PORT and ldaps://127.0.0.1:PORT+1 (self-signed certificate, SAN IP:127.0.0.1).
# Seeded with ldapadd after the start (so memberOf is filled): dc=example,dc=org, ou=people, ou=groups,
#   uid=alice / alicepw (uidNumber 10001, gidNumber 5000), uid=bob / bobpw (10002, 6000),
#   groupOfNames cn=developers (alice, bob), cn=admins (alice), posixGroup cn=registry-users (5000, alice).
# Admin: cn=admin,dc=example,dc=org / adminpw. DATADIR is wiped first. Prints eval-able KEY=value lines.
# Stop with infra/slapd/stop.sh DATADIR.
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 PORT DATADIR" >&2
  exit 2
fi
P=$1
[[ $P =~ ^[0-9]+$ ]] && ((P > 1024 && P < 65535)) || {
  echo "slapd: bad port '$P'" >&2
  exit 2
}
D=$(realpath -m -- "$2")
case "$D" in / | /tmp | /work | /work/main | "$HOME") echo "slapd: refusing DATADIR $D" >&2 && exit 2 ;; esac
HERE=$(dirname -- "$(realpath -- "$0")")
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset LDAPTLS_CACERT LDAPTLS_REQCERT LDAPCONF LDAPRC
export LDAPNOINIT=1
BASE="dc=example,dc=org"
ADMIN_DN="cn=admin,$BASE"
ADMIN_PW=adminpw

fail() {
  echo "slapd: FAILED: $*" >&2
  [[ -s $D/slapd.log ]] && {
    echo "---- last lines of $D/slapd.log" >&2
    tail -n 25 "$D/slapd.log" >&2
  }
  STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
  exit 1
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[[ -d $D ]] && STOP_SIGNAL=KILL "$HERE/stop.sh" "$D" >/dev/null 2>&1 || true
for port in "$P" $((P + 1)); do port_free "$port" || {
  echo "slapd: port $port is already in use" >&2
  exit 1
}; done
rm -rf -- "$D"
mkdir -p "$D/db" "$D/tls"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$D/tls/key.pem" -out "$D/tls/cert.pem" >"$D/openssl.log" 2>&1 || {
  cat "$D/openssl.log" >&2
  fail "certificate generation"
}

cat >"$D/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile $D/slapd.pid
argsfile $D/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
loglevel none
TLSCertificateFile $D/tls/cert.pem
TLSCertificateKeyFile $D/tls/key.pem

database mdb
maxsize 104857600
suffix "$BASE"
rootdn "$ADMIN_DN"
rootpw $(slappasswd -s "$ADMIN_PW")
directory $D/db
index objectClass eq
index uid,cn,mail eq,sub
index member eq
overlay memberof
access to attrs=userPassword by self write by anonymous auth by * none
access to * by self write by users read by anonymous read
EOF

slapd -Tt -u -f "$D/slapd.conf" >"$D/slapd.log" 2>&1 || fail "slapd -Tt config check"
setsid slapd -d 0 -f "$D/slapd.conf" -h "ldap://127.0.0.1:$P/ ldaps://127.0.0.1:$((P + 1))/" \
  >>"$D/slapd.log" 2>&1 </dev/null &
PID=$!
deadline=$((SECONDS + 20))
until ldapsearch -x -H "ldap://127.0.0.1:$P" -b "" -s base namingContexts >/dev/null 2>&1; do
  [[ -e /proc/$PID ]] || fail "slapd exited during start"
  ((SECONDS < deadline)) || fail "timed out waiting for ldap://127.0.0.1:$P"
  sleep 0.05
done

ALICE_PW=$(slappasswd -s alicepw)
BOB_PW=$(slappasswd -s bobpw)
ldapadd -x -H "ldap://127.0.0.1:$P" -D "$ADMIN_DN" -w "$ADMIN_PW" >"$D/seed.log" 2>&1 <<EOF || fail "seeding (see $D/seed.log)"
dn: $BASE
objectClass: top
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$BASE
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,$BASE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: alice
cn: Alice Example
sn: Example
givenName: Alice
mail: alice@example.org
uidNumber: 10001
gidNumber: 5000
homeDirectory: /home/alice
loginShell: /bin/bash
userPassword: $ALICE_PW

dn: uid=bob,ou=people,$BASE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: bob
cn: Bob Example
sn: Example
givenName: Bob
mail: bob@example.org
uidNumber: 10002
gidNumber: 6000
homeDirectory: /home/bob
loginShell: /bin/bash
userPassword: $BOB_PW

dn: cn=developers,ou=groups,$BASE
objectClass: groupOfNames
cn: developers
member: uid=alice,ou=people,$BASE
member: uid=bob,ou=people,$BASE

dn: cn=admins,ou=groups,$BASE
objectClass: groupOfNames
cn: admins
member: uid=alice,ou=people,$BASE

dn: cn=registry-users,ou=groups,$BASE
objectClass: posixGroup
cn: registry-users
gidNumber: 5000
memberUid: alice
EOF

cat <<EOF
WHARF_LDAP_URL=ldap://127.0.0.1:$P
WHARF_LDAPS_URL=ldaps://127.0.0.1:$((P + 1))
WHARF_LDAP_CA=$D/tls/cert.pem
WHARF_LDAP_BASE_DN=$BASE
WHARF_LDAP_ADMIN_DN=$ADMIN_DN
WHARF_LDAP_ADMIN_PASSWORD=$ADMIN_PW
WHARF_LDAP_DATADIR=$D
WHARF_LDAP_PID=$PID
EOF
