#!/usr/bin/env bash
# Runs every benchmark. The build and per-step comparisons need docker.io and buildah
# (installed by setup with TSBUILD_SETUP_EXTRA="buildah") and takes a while:
# it syncs and waits 65 s before each measured cold run (see bench/build.bench.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
TSBUILD_SETUP_EXTRA="buildah ${TSBUILD_SETUP_EXTRA:-}" bash scripts/setup.sh
run() { echo "== $1"; npx tsx --conditions=tsbuild-source "$@"; }
run bench/frontend.bench.ts
run bench/compress.bench.ts
run bench/context-checksum.bench.ts "$@"
run bench/run-step.bench.ts
run bench/build.bench.ts "$@"
run bench/registry.bench.ts
run bench/cache.bench.ts
