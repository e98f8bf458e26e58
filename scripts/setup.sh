#!/usr/bin/env bash
# Sets up everything tsbuild needs on a fresh Debian machine with Node 20:
# the Debian packages (OCI runtimes, registry, interop tools, busybox for base
# images), the npm packages, and the compiled workspace. Idempotent: a second
# run only checks.
#   TSBUILD_SETUP_EXTRA="docker.io buildah"  also installs the comparison peers.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
want() { # command package
  have "$1" || need_pkgs+=("$2")
}
want crun crun
want runc runc
want skopeo skopeo
want umoci umoci
want busybox busybox-static
want docker-registry docker-registry
want htpasswd apache2-utils
want ip iproute2
want debootstrap debootstrap
want dockerd docker.io
want bzip2 bzip2
want xz xz-utils
want zstd zstd
want openssl openssl   # cli/test/launcher.test.ts makes a private CA
for extra in ${TSBUILD_SETUP_EXTRA:-}; do dpkg -s "$extra" >/dev/null 2>&1 || need_pkgs+=("$extra"); done

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "tsbuild setup: missing Debian packages: ${need_pkgs[*]}" >&2
    echo "  install them as root: apt-get install -y ${need_pkgs[*]}" >&2
    exit 1
  fi
  echo "tsbuild setup: installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi
# The registry package starts a system service; tests run their own instances.
if [ -d /run/systemd/system ]; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install` rather than `npm ci`: npm 11's ci rejects this lock file for
  # lacking other platforms' optional nx binaries, which install never needs.
  echo "tsbuild setup: npm install"
  npm install --no-fund --no-audit --loglevel=error
fi
# zstd-napi is a native addon: build it when no prebuilt binary was usable.
node -e 'require("zstd-napi")' 2>/dev/null || npm rebuild zstd-napi --loglevel=error

# The run engine's native helper (mount(2), umount2(2), utimensat(2) for runtime/src/sys.ts),
# built with npm's own node-gyp against this Node's headers: no download.
native=runtime/native/build/Release/tsbuild_sys.node
if [ ! -f "$native" ] || [ runtime/native/sys.c -nt "$native" ] || [ runtime/native/binding.gyp -nt "$native" ] ||
  ! node -e "require('./$native')" 2>/dev/null; then
  echo "tsbuild setup: building runtime/native"
  npm run --silent native -w @tsbuild/runtime >/dev/null
fi

npx tsc -b
node scripts/bundle-cli.mjs  # cli/dist/bundle: what cli/bin/tsbuild.js runs (quicker start-up)
chmod +x cli/bin/tsbuild.js 2>/dev/null || true
echo "tsbuild setup: ready"
