#!/usr/bin/env bash
# Builds the test images without any container registry and prints `export` lines naming them:
#   eval "$(bash scripts/ci/build-images.sh)"
# - IMAGE_API_TEST_POSTGRES_IMAGE, IMAGE_API_TEST_S3_IMAGE: the servers the test suite talks to;
# - IMAGE_API_TEST_NODE_IMAGE: the Node.js base the service's own Dockerfile is built on in the tests
#   (see build-node-base.sh).
# Images are tagged with a hash of their inputs, so an unchanged build is a no-op.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
s3rver_version=$(node -p "require('$root/packages/testkit/node_modules/s3rver/package.json').version")

hash=$({
  cat "$here"/build-rootfs.sh "$here"/build-images.sh "$here"/image/*
  echo "s3rver@$s3rver_version"
} | sha256sum | cut -c1-12)
pg_image=image-api-test/postgres:$hash
s3_image=image-api-test/s3:$hash

log() { echo "[build-images] $*" >&2; }
have_image() { docker image inspect "$1" >/dev/null 2>&1; }
# Its own script, hashed on its own inputs; a no-op when its image exists.
node_image=$(bash "$here/build-node-base.sh")
emit() {
  echo "export IMAGE_API_TEST_POSTGRES_IMAGE=$pg_image"
  echo "export IMAGE_API_TEST_S3_IMAGE=$s3_image"
  echo "export IMAGE_API_TEST_NODE_IMAGE=$node_image"
}

if have_image "$pg_image" && have_image "$s3_image"; then
  log "cached: $pg_image $s3_image"
  emit
  exit 0
fi

base=$(bash "$here/build-rootfs.sh")
work=$(mktemp -d /var/tmp/image-api-images.XXXXXX)
trap 'rm -rf "$work"' EXIT

# s3rver is pure JavaScript: install its tree with the host's npm, run it on Debian's node.
mkdir -p "$work/layer/opt" "$work/layer/usr/local/bin" "$work/layer/data"
npm install --prefix "$work/layer/opt/s3rver" --omit=dev --no-audit --no-fund \
  --no-package-lock --loglevel=error "s3rver@$s3rver_version" >&2
install -m 0755 "$here/image/postgres-start.sh" "$work/layer/usr/local/bin/postgres-start"
install -m 0755 "$here/image/s3-start.sh" "$work/layer/usr/local/bin/s3-start"
chmod 0777 "$work/layer/data"

# Append the project files to a copy of the cached rootfs: one tarball, one layer.
cp "$base" "$work/image.tar"
tar -C "$work/layer" --owner=0 --group=0 -rf "$work/image.tar" \
  ./opt/s3rver ./usr/local/bin/postgres-start ./usr/local/bin/s3-start ./data

start=$SECONDS
log "importing $pg_image ..."
docker import \
  -c 'ENV LANG=C.UTF-8 PGDATA=/tmp/pgdata' \
  -c 'USER postgres' \
  -c 'EXPOSE 5432' \
  -c 'CMD ["/usr/local/bin/postgres-start"]' \
  "$work/image.tar" "$pg_image" >/dev/null
# Same tarball, same layer: the second import stores only the config.
log "importing $s3_image ..."
docker import \
  -c 'ENV LANG=C.UTF-8' \
  -c 'EXPOSE 4569' \
  -c 'CMD ["/usr/local/bin/s3-start"]' \
  "$work/image.tar" "$s3_image" >/dev/null
log "import took $((SECONDS - start))s"

emit
