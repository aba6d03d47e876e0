#!/usr/bin/env bash
# Runs a rendered Kubernetes manifest for real with rootless podman (no cluster can run here; see
# ../shared/reference/real-services.md §7): as root podman cannot start a pod's infra container on
# this VM, as a dedicated unprivileged user it can.
#   infra/deploy/kube-play.sh up   MANIFEST IMAGE...   load the images (built as root) and play it
#   infra/deploy/kube-play.sh exec POD-CONTAINER CMD... run a command in a running container
#   infra/deploy/kube-play.sh down MANIFEST            stop and remove what `up` started
# MANIFEST must already be adapted to podman 4.3's `kube play` (infra/deploy/kube-play.ts does it).
set -euo pipefail
user=wharf-kube
uid_range=300000
[[ $(id -u) == 0 ]] || { echo "kube-play: run as root (it prepares the user)" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$user"
fi
for f in /etc/subuid /etc/subgid; do
  grep -q "^$user:" "$f" 2>/dev/null || echo "$user:$uid_range:65536" >>"$f"
done
uid=$(id -u "$user")
runtime=/run/user/$uid
install -d -o "$user" -m 0700 "$runtime"
home=$(getent passwd "$user" | cut -d: -f6)
install -o "$user" -m 0644 "$here/../podman/containers.conf" "$home/containers.conf"
# slirp4netns opens the tun device from the user's namespace.
[[ -c /dev/net/tun ]] && chmod 0666 /dev/net/tun

as_user() {
  su "$user" -s /bin/bash -c "cd ~ && export XDG_RUNTIME_DIR=$runtime CONTAINERS_CONF=$home/containers.conf && $1"
}

case "${1:-}" in
up)
  manifest=$2
  shift 2
  for image in "$@"; do
    CONTAINERS_CONF="$here/../podman/containers.conf" podman save "$image" | as_user "podman load -q" >/dev/null
  done
  install -o "$user" -m 0644 "$manifest" "$home/manifest.yaml"
  # Secrets first: podman 4.3 reads a kube Secret's data as a JSON map, one podman secret per Secret.
  for secret in "$manifest".secret.*.json; do
    [[ -e $secret ]] || continue
    name=${secret##*.secret.}
    name=${name%.json}
    install -o "$user" -m 0644 "$secret" "$home/$name.json"
    as_user "podman secret rm $name >/dev/null 2>&1 || true; podman secret create $name ~/$name.json >/dev/null"
  done
  as_user "podman kube play ~/manifest.yaml"
  ;;
exec)
  container=$2
  shift 2
  as_user "podman exec $container $(printf '%q ' "$@")"
  ;;
down)
  install -o "$user" -m 0644 "$2" "$home/manifest.yaml"
  as_user "podman kube play --down ~/manifest.yaml >/dev/null 2>&1 || true; podman volume prune -f >/dev/null 2>&1 || true; podman secret rm -a >/dev/null 2>&1 || true"
  ;;
*)
  echo "usage: $0 up MANIFEST IMAGE... | exec CONTAINER CMD... | down MANIFEST" >&2
  exit 2
  ;;
esac
