#!/usr/bin/env bash
# Installs the Debian packages Wharf talks to, only those that are missing.
#   infra/apt-deps.sh          what the test suite needs
#   infra/apt-deps.sh bench    plus the reference tools the benchmarks compare against
set -euo pipefail
declare -A bins=(
  [ceph-mon]=ceph-mon [ceph-osd]=ceph-osd [radosgw]=radosgw [ceph]=ceph-common
  [swift-proxy-server]=swift-proxy [swift-object-server]=swift-object
  [swift-container-server]=swift-container [swift-account-server]=swift-account
  [swift-ring-builder]=swift [memcached]=memcached
  [slapd]=slapd [ldapsearch]=ldap-utils
  [docker-registry]=docker-registry [skopeo]=skopeo
  [git-lfs]=git-lfs [lftp]=lftp [curl]=curl [openssl]=openssl [python3]=python3
  [kubectl]=kubernetes-client [promtool]=prometheus [systemd-analyze]=systemd
  # the container images: built and run with podman (runc), on a Debian base made by mmdebstrap
  [podman]=podman [runc]=runc [mmdebstrap]=mmdebstrap
  # rootless podman for `podman kube play` (infra/deploy/kube-play.sh): id maps, pod network, overlay storage
  [newuidmap]=uidmap [newgidmap]=uidmap [slirp4netns]=slirp4netns [fuse-overlayfs]=fuse-overlayfs [catatonit]=catatonit
  [chromium]=chromium
  # the load balancer in front of the replicas (infra/cluster, deploy/haproxy)
  [haproxy]=haproxy
  [ssh]=openssh-client [sftp]=openssh-client [scp]=openssh-client [ssh-keygen]=openssh-client [rclone]=rclone
)
if [[ "${1:-}" == bench ]]; then
  bins+=([aws]=awscli [vsftpd]=vsftpd [sshd]=openssh-server)
fi
missing=()
for bin in "${!bins[@]}"; do
  # Only Debian's own binaries count: a pyenv or npm shim of the same name is not the package.
  [[ -x "/usr/bin/$bin" || -x "/usr/sbin/$bin" ]] || missing+=("${bins[$bin]}")
done
# Python modules the client tests drive (ftps-gateway's SFTP tests use paramiko).
/usr/bin/python3 -c 'import paramiko' 2>/dev/null || missing+=(python3-paramiko)
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "apt-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
