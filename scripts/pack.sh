#!/usr/bin/env bash
# Packs the tsbuild API for another Node project: one npm tarball per workspace
# package (@tsbuild/core … and `tsbuild` itself) into DIR (default ./packs).
# The @tsbuild/* packages are not on the npm registry, so they are installed
# together from their tarballs:
#   npm install DIR/*.tgz
# (npm satisfies tsbuild's "@tsbuild/core": "0.1.0" with the tarball installed
# next to it; third-party dependencies come from the registry or npm's cache).
# The tarballs carry the compiled dist/ and the runtime's native addon as built
# on this machine (scripts/setup.sh): same OS, architecture and Node ABI.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-packs}")
npx tsc -b
if [ ! -f runtime/native/build/Release/tsbuild_sys.node ]; then
  npm run --silent -w @tsbuild/runtime native
fi
mkdir -p "$out"
rm -f "$out"/tsbuild-*.tgz
for ws in core dockerfile store runtime registry-client builder server cli; do
  npm pack --silent -w "$ws" --pack-destination "$out" >/dev/null
done
ls "$out"/*.tgz
