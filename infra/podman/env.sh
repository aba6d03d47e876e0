# Sourced by the podman scripts: the private podman settings and the image names.
podman_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$podman_dir/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$podman_dir/containers.conf}"
# The stand-in for node:24-bookworm-slim: Debian bookworm (mmdebstrap) plus Node 24 from npm.
stand_in_base="${WHARF_STAND_IN_BASE:-localhost/wharf/node:24-bookworm-slim}"
