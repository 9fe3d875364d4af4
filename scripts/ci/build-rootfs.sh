#!/usr/bin/env bash
# Debootstraps the Debian rootfs shared by the test images and prints the path of
# its tarball, cached outside the checkout under a hash of this recipe.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${IMAGE_API_CI_CACHE:-/var/cache/image-api-ci}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
suite=bookworm
packages=postgresql-15,nodejs

hash=$({ cat "$here/build-rootfs.sh"; echo "$suite $packages"; } | sha256sum | cut -c1-12)
tarball=$cache/rootfs-$hash.tar
log() { echo "[build-rootfs] $*" >&2; }

mkdir -p "$cache"
exec 9>"$cache/.rootfs.lock"
flock 9

if [[ -f $tarball ]]; then
  log "cached: $tarball"
  echo "$tarball"
  exit 0
fi

work=$(mktemp -d /var/tmp/image-api-rootfs.XXXXXX)
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
start=$SECONDS
log "debootstrap $suite ($packages) ..."
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" \
  >"$work/debootstrap.log" 2>&1 || { tail -n 40 "$work/debootstrap.log" >&2; exit 1; }
log "debootstrap took $((SECONDS - start))s"

# The packaged cluster is never used: every container initdb's its own.
rm -rf "$rootfs"/var/lib/postgresql/15 "$rootfs"/etc/postgresql/15
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/info "$rootfs"/usr/share/locale

tar -C "$rootfs" --numeric-owner -cf "$tarball.partial" .
mv "$tarball.partial" "$tarball"
# Older tarballs are dead weight once the recipe has changed.
find "$cache" -maxdepth 1 -name 'rootfs-*.tar' ! -name "rootfs-$hash.tar" -delete
echo "$tarball"
