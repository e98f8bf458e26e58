#!/usr/bin/env bash
# Makes the `debian:bookworm` base image in the tsbuild store STORE_ROOT (there
# is no Docker Hub here): `debootstrap --variant=minbase bookworm` from the
# Debian mirror this machine's apt uses, shaped like Docker Hub's debian image
# (its /etc/apt/apt.conf.d/docker-* files, empty apt lists and caches, no
# device nodes), then `tsbuild import ROOTFS -t debian:bookworm --change 'CMD ["bash"]'`.
#
# debootstrap takes minutes, so the root filesystem is cached as a tarball
# outside the repository and reused when present: only the first run pays.
#   make-debian-base.sh STORE_ROOT [TAG]        TAG defaults to debian:bookworm
#   make-debian-base.sh --rootfs-only DIR       only unpack the root filesystem into DIR
#                                               (test/examples.test.ts imports it in-process)
#   DEBIAN_MIRROR=http://…/debian               the mirror (default: from /etc/apt/sources.list*)
#   TSBUILD_DEBIAN_CACHE=/path/rootfs.tar.zst   the cached root filesystem
#     (default: ${XDG_CACHE_HOME:-~/.cache}/tsbuild/debian-bookworm-minbase.tar.zst; delete it to rebuild)
#   TSBUILD_CLI="node cli/bin/tsbuild.js"       how to run tsbuild (tests run it from source)
set -euo pipefail
usage="usage: make-debian-base.sh STORE_ROOT [TAG] | --rootfs-only DIR"
rootfs_only=
if [ "${1:-}" = --rootfs-only ]; then rootfs_only=${2:?$usage}; fi
store=${1:?$usage}
tag=${2:-debian:bookworm}
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${TSBUILD_DEBIAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tsbuild/debian-bookworm-minbase.tar.zst}
read -r -a cli <<<"${TSBUILD_CLI:-node $repo/cli/bin/tsbuild.js}"

# The mirror apt on this machine uses for Debian (deb822 `URIs:` or one-line `deb URL suite`).
detect_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # The first stanza whose Suites mention bookworm (not bookworm-security).
    awk 'BEGIN{RS=""} /Suites:[^\n]*bookworm( |\n|$)/ { if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u=substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit } }' "$f"
  done
  grep -hsE '^deb\s+(\[[^]]*\]\s+)?https?://\S+\s+bookworm(\s|$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    sed -E 's/^deb\s+(\[[^]]*\]\s+)?(\S+).*/\2/' || true
}
mirror=${DEBIAN_MIRROR:-$(detect_mirror | head -n1 || true)}
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
security=${DEBIAN_SECURITY_MIRROR:-${mirror}-security}

if [ ! -s "$cache" ]; then
  command -v debootstrap >/dev/null || { echo "make-debian-base: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "make-debian-base: debootstrap needs root" >&2; exit 1; }
  work=$(mktemp -d "${TMPDIR:-/tmp}/tsbuild-debootstrap.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  rootfs=$work/rootfs
  echo "make-debian-base: debootstrap --variant=minbase bookworm from $mirror (once; cached in $cache)" >&2
  start=$SECONDS
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
    exit 1
  fi

  # apt inside the image uses the same reachable mirror (RUN steps share the host's network).
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # What debuerreotype puts in Docker Hub's debian images, so the examples meet
  # the same apt behaviour (docker-clean is the one that defeats cache mounts:
  # see examples/Dockerfiles/README.md).
  conf=$rootfs/etc/apt/apt.conf.d
  cat >"$conf/docker-clean" <<'EOF'
# As in Docker Hub's debian images: apt deletes downloaded .debs after every
# install, so layers stay small. With a cache mount for /var/cache/apt, delete
# this file (and set Binary::apt::APT::Keep-Downloaded-Packages "true").
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$conf/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$conf/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$conf/docker-autoremove-suggests"
  # Like Docker Hub's image: no package lists, no downloaded .debs, no device
  # nodes (the runtime provides /dev), no machine-specific files.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/tmp/* "$rootfs"/dev/* "$rootfs"/proc/* "$rootfs"/sys/* \
    "$rootfs"/debootstrap
  mkdir -p "$rootfs/var/lib/apt/lists/partial"
  : >"$rootfs/etc/machine-id"
  echo debian >"$rootfs/etc/hostname"
  rm -f "$rootfs/etc/resolv.conf" && : >"$rootfs/etc/resolv.conf"

  mkdir -p "$(dirname "$cache")"
  tar --numeric-owner --xattrs --acls -C "$rootfs" -cf - . | zstd -q -T0 -6 -o "$cache.tmp.$$"
  mv "$cache.tmp.$$" "$cache"
  echo "make-debian-base: root filesystem made in $((SECONDS - start))s, cached: $(du -h "$cache" | cut -f1) $cache" >&2
  rm -rf "$work"
  trap - EXIT
fi

if [ -n "$rootfs_only" ]; then
  mkdir -p "$rootfs_only"
  zstd -q -d -c "$cache" | tar --numeric-owner --xattrs --acls -p -C "$rootfs_only" -xf -
  exit 0
fi

# Unpack the cached root filesystem and import it.
work=$(mktemp -d "${TMPDIR:-/tmp}/tsbuild-debian-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/rootfs"
zstd -q -d -c "$cache" | tar --numeric-owner --xattrs --acls -p -C "$work/rootfs" -xf -
"${cli[@]}" --root "$store" import "$work/rootfs" -t "$tag" --change 'CMD ["bash"]' >/dev/null
echo "make-debian-base: imported $tag into $store" >&2
