#!/usr/bin/env bash
# The test command: set up everything (scripts/setup.sh), then run every
# package's tests and the cross-package tests with real crun/runc, overlayfs,
# docker-registry, skopeo and umoci. Arguments replace the default spec list.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ $# -eq 0 ]; then
  set -- 'core/test/**/*.test.ts' 'store/test/**/*.test.ts' 'runtime/test/**/*.test.ts' 'dockerfile/test/**/*.test.ts' \
    'builder/test/**/*.test.ts' 'registry-client/test/**/*.test.ts' 'server/test/**/*.test.ts' 'cli/test/**/*.test.ts' 'test/**/*.test.ts'
fi
exec npx mocha "$@"
