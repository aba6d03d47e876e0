#!/usr/bin/env bash
# Builds the production artifact and the image of each app named (all by default) with podman, from
# the repository's Containerfile, and prints one image reference per app (the last line is the last
# app's). Images are tagged localhost/wharf/<app>:<version> and :latest, labelled with the git
# revision and origin (WHARF_SOURCE_URL when there is no remote). --no-cache because buildah's layer
# cache ignores a changed build argument in a LABEL (and --label): a cached image kept the revision
# of an older build. The base is not rebuilt, and an app's layer is only its artifact (~5 MB).
#   infra/podman/build.sh [--stand-in] [app…]
#     --stand-in      build on the local stand-in base (infra/podman/base.sh) instead of
#                     docker.io/library/node:24-bookworm-slim, for machines without a registry
#   NODE_IMAGE=…      any other Node 24 base image
#   WHARF_IMAGE_REPO=… where to tag them instead of localhost/wharf (the tests use one per run)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
node_image="${NODE_IMAGE:-docker.io/library/node:24-bookworm-slim}"
repo="${WHARF_IMAGE_REPO:-localhost/wharf}"
if [[ "${1:-}" == --stand-in ]]; then
  shift
  node_image="$(bash "$podman_dir/base.sh" | tail -n 1)"
fi
bash "$root/infra/apt-deps.sh" >&2
mapfile -t dists < <("$root/wharf" build "$@")
revision="$(git -C "$root" rev-parse HEAD 2>/dev/null || true)"
[[ -z "$revision" || -z "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]] || revision+="-dirty"
source_url="${WHARF_SOURCE_URL:-$(git -C "$root" remote get-url origin 2>/dev/null || true)}"
for dist in "${dists[@]}"; do
  app="$(basename "$(dirname "$dist")")"
  version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$dist/package.json")"
  image="$repo/$app:$version"
  previous="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  podman build --quiet --no-cache --format docker --file "$root/Containerfile" --target "$app" \
    --build-arg "NODE_IMAGE=$node_image" --build-arg "VERSION=$version" \
    --build-arg "REVISION=$revision" --build-arg "SOURCE=$source_url" \
    --tag "$image" --tag "$repo/$app:latest" "$root" >&2
  # The image this build replaced, unless a container or another tag still uses it.
  [[ -z "$previous" ]] || podman rmi "$previous" >/dev/null 2>&1 || true
  echo "$image"
done
