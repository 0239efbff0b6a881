#!/usr/bin/env bash
# Builds the real test images without a Docker engine: a Debian bookworm rootfs from debootstrap (minbase),
# packed with umoci into an OCI layout, and converted with skopeo into docker-archive and oci-archive files.
# A second image adds an npm application layer (real packages from the npm registry) and deletes a file of
# the base layer (a whiteout). Results are cached; a finished image has a ".done" stamp.
#
#   scripts/test-images.sh            build what is missing, print the cache directory
#   PALISADE_TEST_IMAGES=DIR          where to build (default: ${XDG_CACHE_HOME:-~/.cache}/palisade/test-images)
#
# Needs root (debootstrap) and the Debian packages debootstrap, umoci, skopeo (scripts/apt-packages.txt).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${PALISADE_TEST_IMAGES:-${XDG_CACHE_HOME:-$HOME/.cache}/palisade/test-images}
mkdir -p "$out"
log="$out/build.log"
# Bump when what this script builds changes, so that caches are rebuilt.
recipe=4

# The Debian mirror is the one apt already uses on this machine (no host names in the project).
mirror() {
  local m
  m=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
    grep -v -e security -e nodesource -e google | grep -oE 'https?://[^ ]+' | head -n 1)
  [ -n "$m" ] || { echo "test-images: no Debian mirror found in apt's sources" >&2; exit 2; }
  echo "$m"
}

stamp_ok() { [ -f "$1/.done" ] && [ "$(cat "$1/.done")" = "$recipe" ]; }

# pack ROOTFS LAYOUT TAG [PARENT_LAYOUT PARENT_TAG]: one new layer holding ROOTFS's differences.
pack() {
  local rootfs=$1 layout=$2 tag=$3 bundle
  bundle=$(mktemp -d "$out/bundle.XXXXXX")
  rm -rf "$layout"
  if [ $# -ge 5 ]; then
    cp -a "$4" "$layout"
    umoci tag --image "$layout:$5" "$tag"
  else
    umoci init --layout "$layout"
    umoci new --image "$layout:$tag"
  fi
  umoci unpack --rootless --image "$layout:$tag" "$bundle/b" >>"$log" 2>&1
  # Make bundle rootfs equal ROOTFS: umoci repack then records additions and whiteouts for deletions.
  rsync -a --delete "$rootfs/" "$bundle/b/rootfs/"
  umoci repack --image "$layout:$tag" "$bundle/b" >>"$log" 2>&1
  rm -rf "$bundle"
}

convert() {
  local layout=$1 tag=$2 name=$3 dir=$4
  rm -f "$dir/image.docker.tar" "$dir/image.oci.tar"
  skopeo --insecure-policy copy -q "oci:$layout:$tag" "docker-archive:$dir/image.docker.tar:$name" >>"$log" 2>&1
  skopeo --insecure-policy copy -q "oci:$layout:$tag" "oci-archive:$dir/image.oci.tar:$tag" >>"$log" 2>&1
  # The same image with zstd-compressed layers (OCI layout), for the zstd decompression path.
  rm -rf "$dir/oci-zstd"
  skopeo --insecure-policy copy -q --dest-compress --dest-compress-format zstd \
    "oci:$layout:$tag" "oci:$dir/oci-zstd:$tag" >>"$log" 2>&1
}

build_debian() {
  local d="$out/debian"
  stamp_ok "$d" && return 0
  echo "test-images: building debian (debootstrap bookworm minbase; a few minutes)" >&2
  rm -rf "$d"; mkdir -p "$d"
  debootstrap --variant=minbase bookworm "$d/rootfs" "$(mirror)" >>"$log" 2>&1
  # An image carries no device nodes, apt lists or caches of the build machine.
  rm -rf "$d/rootfs/dev/"* "$d/rootfs/proc/"* "$d/rootfs/sys/"* "$d/rootfs/var/cache/apt/archives/"*.deb
  pack "$d/rootfs" "$d/oci" bookworm
  umoci config --image "$d/oci:bookworm" --config.cmd /bin/bash \
    --history.created_by 'debootstrap --variant=minbase bookworm' >>"$log" 2>&1
  convert "$d/oci" bookworm palisade-test/debian:bookworm "$d"
  echo "$recipe" >"$d/.done"
}

build_npm_app() {
  local d="$out/npm-app" base="$out/debian"
  stamp_ok "$d" && return 0
  echo "test-images: building npm-app (npm packages on the debian image)" >&2
  rm -rf "$d"; mkdir -p "$d"
  cp -a "$base/rootfs" "$d/rootfs"
  mkdir -p "$d/rootfs/srv/app"
  cp "$here/test/fixtures/images/npm-app/package.json" "$d/rootfs/srv/app/package.json"
  (cd "$d/rootfs/srv/app" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >>"$log" 2>&1)
  # A file deleted by the application layer: the final filesystem must not list it (whiteout).
  rm -f "$d/rootfs/usr/share/doc/bash/README.gz"
  pack "$d/rootfs" "$d/oci" app "$base/oci" bookworm
  umoci config --image "$d/oci:app" --config.workingdir /srv/app --config.cmd node --config.cmd index.js \
    --history.created_by 'COPY app /srv/app && npm install' >>"$log" 2>&1
  convert "$d/oci" app palisade-test/npm-app:latest "$d"
  echo "$recipe" >"$d/.done"
}

build_debian
build_npm_app
echo "$out"
