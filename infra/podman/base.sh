#!/usr/bin/env bash
# Makes the stand-in for the public Node 24 base image, for machines that reach no image registry:
# a minimal Debian bookworm root filesystem from the apt mirror (mmdebstrap, ~30 s) with ca-certificates,
# Node 24 from the npm package node@24 in /usr/local/bin, and the user node (1000:1000), as in
# node:24-bookworm-slim. Skipped when the image exists (WHARF_REBUILD_BASE=1 remakes it).
#   infra/podman/base.sh            prints the image name on its last line
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$root/infra/apt-deps.sh" >&2

if [[ "${WHARF_REBUILD_BASE:-}" != 1 ]] && podman image exists "$stand_in_base"; then
  echo "$stand_in_base"
  exit 0
fi

# Node 24 as ./wharf installs it (npm package node@24, the official Linux binary).
node_bin="$root/.tools/node_modules/node/bin/node"
if [[ ! -x "$node_bin" ]] || [[ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" != 24 ]]; then
  node_prefix="$(mktemp -d)"
  npm install --prefix "$node_prefix" --no-audit --no-fund --loglevel=error node@24 >&2
  node_bin="$node_prefix/node_modules/node/bin/node"
fi
node_bin="$(readlink -f "$node_bin")"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "base: making $stand_in_base (Debian bookworm + Node $("$node_bin" --version))" >&2
mmdebstrap --quiet --variant=minbase --include=ca-certificates \
  --customize-hook="install -m 0755 '$node_bin' \"\$1/usr/local/bin/node\"" \
  --customize-hook='chroot "$1" groupadd --gid 1000 node' \
  --customize-hook='chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/usr/share/doc "$1"/usr/share/man' \
  bookworm "$work/base.tar" >&2
podman import --change 'CMD ["node"]' --change 'ENV NODE_VERSION='"$("$node_bin" -p process.versions.node)" \
  "$work/base.tar" "$stand_in_base" >&2
echo "$stand_in_base"
