#!/bin/sh
# Builds netzwaechter/base:local without a registry: an image imported from an (almost)
# empty root filesystem. Containers bind-mount the host's /usr and /etc read-only; the
# merged-/usr links below make /bin, /lib, /lib64 and /sbin resolve into that mount.
set -eu
tag=${1:-netzwaechter/base:local}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/run/lock" "$root/usr" "$root/etc" "$root/tmp" "$root/run" "$root/var/lib" "$root/var/log" \
         "$root/var/tmp" "$root/data" "$root/app" "$root/sandbox" "$root/root" "$root/proc" "$root/sys" "$root/dev"
chmod 1777 "$root/tmp" "$root/var/tmp"
for d in bin lib lib64 sbin; do ln -s "usr/$d" "$root/$d"; done
ln -s ../run "$root/var/run"
ln -s ../run/lock "$root/var/lock"
tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'LABEL org.netzops.base=empty-root-host-programs' - "$tag" >/dev/null
echo "$tag"
