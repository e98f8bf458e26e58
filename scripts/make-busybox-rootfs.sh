#!/usr/bin/env bash
# Writes a minimal busybox root filesystem into DIR, from Debian's
# busybox-static (there is no Docker Hub here): /bin/busybox with one symlink
# per applet, /etc/passwd and /etc/group with root, nobody and a user `tester`
# (uid 1000, also in group `extra` 2000), /tmp (1777), /root.
# `tsbuild import DIR -t busybox:latest` turns it into the base image.
set -euo pipefail
dir=${1:?usage: make-busybox-rootfs.sh DIR}
bb=${BUSYBOX:-/bin/busybox}
[ -x "$bb" ] || { echo "make-busybox-rootfs: $bb is missing (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$dir"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/tester,proc,sys,dev}
chmod 1777 "$dir/tmp"
install -m 0755 "$bb" "$dir/bin/busybox"
for applet in $("$bb" --list-full); do
  [ "$applet" = bin/busybox ] || [ -e "$dir/$applet" ] || [ -L "$dir/$applet" ] || ln -s /bin/busybox "$dir/$applet"
done
cat > "$dir/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
tester:x:1000:1000:tester:/home/tester:/bin/sh
PASSWD
cat > "$dir/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
tester:x:1000:
extra:x:2000:tester
GROUP
