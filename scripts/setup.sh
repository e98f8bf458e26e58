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
want qemu-aarch64-static qemu-user-static   # RUN for foreign platforms (runtime/src/emulation.ts)
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

# QEMU user emulation for foreign-platform RUN steps. No systemd here to run
# systemd-binfmt, so its work is done by hand: mount binfmt_misc, then write each
# qemu-user-static binfmt.d line (they carry the fix-binary flag F, which lets a
# container without the emulator in its root filesystem use it) to the register
# file. Already registered handlers are left as they are.
binfmt=/proc/sys/fs/binfmt_misc
if [ "$(id -u)" = 0 ]; then
  mountpoint -q "$binfmt" || mount -t binfmt_misc binfmt_misc "$binfmt" || echo "tsbuild setup: cannot mount binfmt_misc: foreign-platform RUN steps will fail" >&2
  if [ -w "$binfmt/register" ]; then
    for conf in /usr/lib/binfmt.d/qemu-*.conf; do
      [ -e "$conf" ] || continue
      name=$(basename "$conf" .conf)
      [ -e "$binfmt/$name" ] || cat "$conf" > "$binfmt/register"
    done
  fi
fi

# The arm64 base image of the multi-platform tests: Debian's busybox-static for
# arm64, fetched here (tests never reach the network) and unpacked by
# test/support/arm64-busybox.ts. apt needs arm64 among dpkg's architectures to
# fetch it; that installs nothing.
arm64_deb=${TSBUILD_ARM64_BUSYBOX_DEB:-/var/cache/tsbuild/busybox-static_arm64.deb}
if [ ! -s "$arm64_deb" ] && [ "$(id -u)" = 0 ]; then
  echo "tsbuild setup: fetching busybox-static:arm64"
  dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -qq; }
  mkdir -p "$(dirname "$arm64_deb")"
  fetch_dir=$(mktemp -d)
  chown _apt "$fetch_dir" 2>/dev/null || true  # apt downloads as _apt where it can
  (cd "$fetch_dir" && apt-get download -qq busybox-static:arm64) && mv "$fetch_dir"/busybox-static_*_arm64.deb "$arm64_deb"
  rm -rf "$fetch_dir"
fi

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
