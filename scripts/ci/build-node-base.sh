#!/usr/bin/env bash
# Builds, without any container registry, a Node.js base image for the service's Dockerfile (its
# BASE_IMAGE), standing in for node:22-bookworm-slim, and prints its name:
#   docker build --build-arg BASE_IMAGE="$(bash scripts/ci/build-node-base.sh)" .
# It is the cached Debian rootfs of build-rootfs.sh plus Node.js and npm in /usr/local, as in the
# official images. Tagged with a hash of its inputs, so an unchanged build is a no-op; its inputs are
# this file, the rootfs recipe and the CA bundle alone, so that the Docker layer cache of the images
# built on it survives any change to the other test images.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${IMAGE_API_CI_CACHE:-/var/cache/image-api-ci}

# Node.js: the official nodejs.org build of this exact version, as the npm registry ships it (package
# node-linux-<arch>, which the `node` package installs), plus npm for the Dockerfile's pnpm. Both are
# pinned by version and by the registry's sha512, so every machine builds the same base. (Debian
# bookworm's own nodejs is 18, too old for the service; copying the host's node would make the image
# depend on whatever the machine happens to have.)
node_version=22.23.5
declare -A node_integrity=(
  [x64]=sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==
  [arm64]=sha512-e1LOUGKVruPGuLVutn8+Cgm5pI1APm4Kvh+zbb/qe/ZpD9s+TQby5iUgZOWmPpbSKpj0Td8DP1N0NEnXasHizg==
)
npm_version=10.9.9
npm_integrity=sha512-1g+6jLQvaIuB4zwvHL7yrXuXcWZwDsCtBX8bbWDqbvJSSr9nPiDDWTHNgwXR27iIcTTW7v3A57hDW9RYv2W4Yg==
case $(uname -m) in
  x86_64) node_arch=x64 ;;
  aarch64) node_arch=arm64 ;;
  *) echo "[build-node-base] no Node.js build pinned for $(uname -m)" >&2; exit 1 ;;
esac
# The Dockerfile's build stage fetches packages from the npm registry, so the base trusts the CAs this
# machine trusts (on a network that inspects TLS, its CA is among them); Node's own roots stay trusted.
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -f $ca_bundle ]] || ca_bundle=

hash=$({
  cat "$here"/build-rootfs.sh "$here"/build-node-base.sh
  [[ -z $ca_bundle ]] || sha256sum <"$ca_bundle"
} | sha256sum | cut -c1-12)
image=image-api-test/node-base:$hash

log() { echo "[build-node-base] $*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "cached: $image"
  echo "$image"
  exit 0
fi

base=$(bash "$here/build-rootfs.sh")
work=$(mktemp -d /var/tmp/image-api-node-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A registry tarball, downloaded once into the cache and checked against its pinned sha512.
fetch_tarball() { # <name> <version> <integrity>; prints the tarball's path
  local name=$1 version=$2 integrity=$3 file=$cache/$1-$2.tgz actual
  if [[ ! -f $file ]]; then
    log "fetching $name@$version from the npm registry ..."
    mkdir -p "$work/pack"
    (cd "$work/pack" && npm pack --silent "$name@$version" >/dev/null)
    mv "$work/pack/$name-$version.tgz" "$file.partial"
    mv "$file.partial" "$file"
  fi
  actual=sha512-$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$file")
  if [[ $actual != "$integrity" ]]; then
    rm -f "$file"
    log "$name@$version: sha512 mismatch (got $actual, pinned $integrity)"
    return 1
  fi
  echo "$file"
}

mkdir -p "$cache"
exec 9>"$cache/.node-base.lock"
flock 9
node_tgz=$(fetch_tarball "node-linux-$node_arch" "$node_version" "${node_integrity[$node_arch]}")
npm_tgz=$(fetch_tarball npm "$npm_version" "$npm_integrity")

# The layout of the official images: node in /usr/local/bin, npm and npx beside it.
layer=$work/layer
mkdir -p "$layer/usr/local/bin" "$layer/usr/local/lib/node_modules/npm" "$layer/etc/ssl/certs"
tar -xzf "$node_tgz" -C "$work" package/bin/node
install -m 0755 "$work/package/bin/node" "$layer/usr/local/bin/node"
tar -xzf "$npm_tgz" -C "$layer/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$layer/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$layer/usr/local/bin/npx"
files=(./usr/local/bin/node ./usr/local/bin/npm ./usr/local/bin/npx ./usr/local/lib/node_modules/npm)
ca_env=()
if [[ -n $ca_bundle ]]; then
  install -m 0644 "$ca_bundle" "$layer/etc/ssl/certs/ca-certificates.crt"
  files+=(./etc/ssl/certs/ca-certificates.crt)
  ca_env=(-c 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
fi

# A copy of the cached rootfs with Node.js appended: one tarball, one layer. Debian's nodejs 18 stays
# in /usr/bin, behind /usr/local/bin on PATH.
cp "$base" "$work/image.tar"
tar -C "$layer" --owner=0 --group=0 --numeric-owner -rf "$work/image.tar" "${files[@]}"
start=$SECONDS
log "importing $image ..."
docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8' \
  "${ca_env[@]}" \
  -c 'CMD ["node"]' \
  "$work/image.tar" "$image" >/dev/null
log "import took $((SECONDS - start))s"

# The binary's shared libraries must all be in the rootfs: a missing one fails here, not in a test,
# and leaves no image behind that a later run would take for a good one.
if ! got=$(docker run --rm "$image" sh -c 'echo "node $(node --version), npm $(npm --version)"'); then
  docker rmi "$image" >/dev/null
  log "$image does not run node"
  exit 1
fi
log "$image: $got"
echo "$image"
