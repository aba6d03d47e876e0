#!/usr/bin/env bash
# Installs the Debian packages the integration tests talk to, only those that are missing.
set -euo pipefail
declare -A bins=(
  [ceph-mon]=ceph-mon [ceph-osd]=ceph-osd [radosgw]=radosgw [ceph]=ceph-common
  [slapd]=slapd [ldapsearch]=ldap-utils
  [docker-registry]=docker-registry [skopeo]=skopeo
  [git-lfs]=git-lfs [lftp]=lftp [aws]=awscli [curl]=curl [openssl]=openssl
)
missing=()
for bin in "${!bins[@]}"; do
  command -v "$bin" >/dev/null 2>&1 || [[ -x "/usr/sbin/$bin" ]] || missing+=("${bins[$bin]}")
done
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "apt-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
