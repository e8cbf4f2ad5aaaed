#!/usr/bin/env bash
# Builds the base image that Jib puts the node and the controller on, from Debian's packages
# (mmdebstrap), as a docker-save tarball: no registry and no Docker daemon is involved, so the
# images build on a machine that reaches only Debian's and Maven's mirrors.
#   <out>/base.tar   bookworm + a Java 17 runtime + what the node's agents run: iproute2,
#                    nftables, dnsmasq, dhcpcd, udhcpc (busybox), strongSwan's charon with
#                    kernel-libipsec, QEMU with qemu-img, and the NoCloud seed tools
# One base for both images: a second debootstrap for a leaner controller image would cost every
# CI run about three minutes on two cores for ~110 MB that a controller host does not miss.
# Cached by a hash of this recipe.
#
#   images/oci/build-base.sh [out-dir]     default out-dir: build/oci under the repository
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/build/oci}
stamp="$out/.built-from"
recipe_hash=$(sha256sum "$here/build-base.sh" | cut -c1-16)

if [[ -f "$stamp" && "$(cat "$stamp")" == "$recipe_hash" && -f "$out/base.tar" ]]; then
  echo "base image up to date: $out"
  exit 0
fi
command -v mmdebstrap >/dev/null || { echo "base image: 'mmdebstrap' is missing (run scripts/setup)" >&2; exit 1; }

java_packages=(openjdk-17-jre-headless ca-certificates netbase)
node_packages=(
  iproute2 nftables libnftables1 dnsmasq-base dhcpcd-base busybox
  strongswan-charon libcharon-extra-plugins
  qemu-system-x86 qemu-utils dosfstools mtools
  iputils-ping procps kmod
)

start=$(date +%s)
mkdir -p "$out"
work="$out/work"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# One bookworm tree as a single uncompressed layer (docs, man pages and locales left out).
rootfs_tar() { # <layer.tar> <package>...
  local layer=$1; shift
  mmdebstrap --mode=unshare --variant=essential --format=tar \
    --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='APT::Install-Recommends "false"' \
    --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    --include="$(IFS=,; echo "$*")" \
    bookworm "$layer" /etc/apt/sources.list.d/debian.sources >"$work/mmdebstrap.log" 2>&1 \
    || { tail -30 "$work/mmdebstrap.log" >&2; echo "base image: mmdebstrap failed" >&2; exit 1; }
}

# The docker-save layout Jib reads with a tar:// base: manifest.json, the config, the layer.
docker_archive() { # <out.tar> <tag> <layer.tar>
  local target=$1 tag=$2 layer=$3 dir="$work/archive"
  rm -rf "$dir" && mkdir -p "$dir"
  local diff_id; diff_id=$(sha256sum "$layer" | cut -d' ' -f1)
  mkdir "$dir/$diff_id" && mv "$layer" "$dir/$diff_id/layer.tar"
  cat >"$dir/config.json" <<JSON
{"architecture":"amd64","os":"linux",
 "config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64"]},
 "rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},
 "history":[{"created_by":"images/oci/build-base.sh (mmdebstrap bookworm)"}]}
JSON
  local config_id; config_id=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
  mv "$dir/config.json" "$dir/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]\n' "$config_id" "$tag" "$diff_id" \
    >"$dir/manifest.json"
  tar -C "$dir" -cf "$target.tmp" manifest.json "$config_id.json" "$diff_id"
  mv "$target.tmp" "$target"
}

rm -f "$out/controller-base.tar" "$out/node-base.tar" # an earlier recipe's two bases
rootfs_tar "$work/base.tar" "${java_packages[@]}" "${node_packages[@]}"
docker_archive "$out/base.tar" verge/base:bookworm "$work/base.tar"

echo "$recipe_hash" > "$stamp"
echo "base image built: $out/base.tar ($(du -h "$out/base.tar" | cut -f1), $(( $(date +%s) - start )) s)"
