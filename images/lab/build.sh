#!/usr/bin/env bash
# Builds the lab VM: a small Debian bookworm root filesystem (from Debian's packages, with
# mmdebstrap) holding a Java runtime, iproute2, nftables, dnsmasq, strongSwan, busybox and every
# module of Debian's cloud kernel — the kernel the guest image boots too, which has 8021q,
# bonding, vrf, bridge VLAN filtering, esp4/xfrm and vfio-pci where the build machines have not.
# Output (cached by a hash of this recipe): <out>/vmlinuz, <out>/rootfs.img (ext4, made with
# `mke2fs -d`: nothing is mounted, nothing outside <out> is written).
#
#   images/lab/build.sh [out-dir]      default out-dir: build/lab under the repository
#
# The kernel's NVMe driver and ext4 are built in, so the VM boots the image directly
# (root=/dev/nvme0n1, init=/sbin/verge-lab-init) without an initramfs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/build/lab}
stamp="$out/.built-from"
recipe_hash=$(cat "$here/build.sh" "$here/init" | sha256sum | cut -c1-16)

if [[ -f "$stamp" && "$(cat "$stamp")" == "$recipe_hash" && -f "$out/vmlinuz" && -f "$out/rootfs.img" ]]; then
  echo "lab image up to date: $out"
  exit 0
fi

for tool in mmdebstrap apt-get dpkg-deb depmod mke2fs; do
  command -v "$tool" >/dev/null || { echo "lab image: '$tool' is missing (run scripts/setup)" >&2; exit 1; }
done

start=$(date +%s)
mkdir -p "$out"
# The work tree lives in the output directory (not /tmp) so that nothing lands outside it.
work="$out/work"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# The versioned kernel package behind the cloud-kernel metapackage, as images/guest resolves it.
resolve_kernel() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}
kpkg=$(resolve_kernel)
if [[ -z "$kpkg" ]]; then
  apt-get update -q >/dev/null 2>&1 || true
  kpkg=$(resolve_kernel)
fi
[[ -n "$kpkg" ]] || { echo "lab image: cannot resolve linux-image-cloud-amd64 from the package lists" >&2; exit 1; }

packages=(
  openjdk-17-jre-headless   # runs the test suites
  iproute2 nftables libnftables1 dnsmasq-base
  strongswan-charon strongswan-swanctl
  busybox kmod iputils-ping procps mount   # the essential variant has no mount(8)
  netbase                                   # /etc/protocols: nft prints "tcp", not "6"
  conntrack curl dhcpcd-base                # tools the ITs call as independent witnesses
)
root="$work/root"
# unshare mode: as root it keeps real ownership but mounts /proc, /dev... in a mount namespace of
# its own, so the machine's mount table is never touched. Docs, man pages and locales are left out
# (man1 stays as an empty directory: update-alternatives links the JRE's pages there).
mmdebstrap --mode=unshare --variant=essential --format=directory \
  --aptopt='Acquire::Check-Valid-Until "false"' --aptopt='APT::Install-Recommends "false"' \
  --setup-hook='mkdir -p "$1/usr/share/man/man1"' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --include="$(IFS=,; echo "${packages[*]}")" \
  bookworm "$root" /etc/apt/sources.list.d/debian.sources >"$work/mmdebstrap.log" 2>&1 \
  || { tail -30 "$work/mmdebstrap.log" >&2; echo "lab image: mmdebstrap failed" >&2; exit 1; }

(cd "$work" && apt-get download -q "$kpkg" >/dev/null 2>&1) \
  || { echo "lab image: apt-get download $kpkg failed" >&2; exit 1; }
dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
mkdir -p "$root/lib/modules"
cp -a "$work/kernel/lib/modules/$kver" "$root/lib/modules/"
depmod -b "$root" "$kver"

install -m 755 "$here/init" "$root/sbin/verge-lab-init"
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/*
mkdir -p "$root/payload"

# Room for what the tests write to the root (the VM also opens it with snapshot=on, so the image
# itself never changes): the tree plus 25% and 64 MiB.
used_kb=$(du -sk "$root" | cut -f1)
size_kb=$(( used_kb + used_kb / 4 + 65536 ))
rm -f "$out/rootfs.img.tmp"
mke2fs -q -t ext4 -O ^has_journal -L verge-lab -d "$root" "$out/rootfs.img.tmp" "${size_kb}k"
cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$out/rootfs.img.tmp" "$out/rootfs.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$kver" > "$out/kernel-version"
echo "$recipe_hash" > "$stamp"
echo "lab image built: $out (kernel $kver, rootfs $(du -h --apparent-size "$out/rootfs.img" | cut -f1)," \
  "$(du -h "$out/rootfs.img" | cut -f1) on disk, $(( $(date +%s) - start )) s)"
