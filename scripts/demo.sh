#!/usr/bin/env bash
# The main job, on a fresh machine: set up everything, make a busybox base
# image (no Docker Hub here: `tsbuild import` of Debian's busybox-static),
# build examples/Dockerfiles/hello, and run it.
#   TSBUILD_ROOT=/some/dir npm run demo   keeps the store elsewhere (default: a demo store in .tsbuild-root/)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TSBUILD_ROOT=${TSBUILD_ROOT:-$PWD/.tsbuild-root}
tsbuild() { node cli/bin/tsbuild.js "$@"; }

if ! tsbuild inspect busybox:latest >/dev/null 2>&1; then
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  bash scripts/make-busybox-rootfs.sh "$rootfs/busybox"
  echo "+ tsbuild import $rootfs/busybox -t busybox:latest"
  tsbuild import "$rootfs/busybox" -t busybox:latest --change 'CMD ["sh"]' >/dev/null
fi
echo "+ tsbuild build -t hello --progress plain examples/Dockerfiles/hello"
tsbuild build -t hello --progress plain examples/Dockerfiles/hello
echo "+ tsbuild run --rm hello"
tsbuild run --rm hello
echo "+ tsbuild run --rm hello demo"
tsbuild run --rm hello demo
tsbuild images
