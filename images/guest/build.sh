#!/usr/bin/env bash
# Builds the small guest used by the VM tests: Debian's cloud kernel plus a busybox initramfs
# whose init prints the user data of a cloud-init seed disk (label cidata) between
# VERGE-USER-DATA-BEGIN/END lines, brings up every ethN with DHCP, prints its addresses on the
# serial console and runs the check named on the kernel command line. Output (cached): <out>/vmlinuz, <out>/initrd.img.
#
#   images/guest/build.sh [out-dir]      default out-dir: build/guest under the repository
#
# Kernel command line understood by the guest's init:
#   verge.check=ping:<addr>    ping the address (3 tries)
#   verge.check=wget:<url>     fetch the URL
#   verge.halt=1               power off after the check (default: keep running)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/build/guest}
stamp="$out/.built-from"
recipe_hash=$(cat "$here/build.sh" "$here/init" "$here/lease.sh" | sha256sum | cut -c1-16)

if [[ -f "$stamp" && "$(cat "$stamp")" == "$recipe_hash" && -f "$out/vmlinuz" && -f "$out/initrd.img" ]]; then
  echo "guest image up to date: $out"
  exit 0
fi

for tool in apt-get dpkg-deb depmod cpio gzip; do
  command -v "$tool" >/dev/null || { echo "guest image: '$tool' is missing (run scripts/setup)" >&2; exit 1; }
done
busybox=/bin/busybox
[[ -x $busybox ]] || busybox=/usr/bin/busybox
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || [[ -f /usr/share/doc/busybox-static/copyright ]] \
  || { echo "guest image: busybox-static is required (run scripts/setup)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The versioned kernel package behind the cloud-kernel metapackage.
resolve_kernel() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'
}
kpkg=$(resolve_kernel)
if [[ -z "$kpkg" ]]; then
  # A fresh machine may have no package lists yet.
  apt-get update -q >/dev/null 2>&1 || true
  kpkg=$(resolve_kernel)
fi
[[ -n "$kpkg" ]] || { echo "guest image: cannot resolve linux-image-cloud-amd64 from the package lists" >&2; exit 1; }
(cd "$work" && apt-get download -q "$kpkg" >/dev/null 2>&1) \
  || { echo "guest image: apt-get download $kpkg failed" >&2; exit 1; }
dpkg-deb -x "$work"/"$kpkg"_*.deb "$work/kernel"
kver=$(ls "$work/kernel/lib/modules")
depmod -b "$work/kernel" "$kver"

root="$work/root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,run,etc,lib/modules/"$kver"}
cp "$busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
cp "$here/lease.sh" "$root/bin/lease.sh"
chmod 755 "$root/init" "$root/bin/lease.sh"

# NIC drivers, the virtio disk and FAT (+ its code pages) for the cloud-init seed disk, and
# everything they depend on, resolved from modules.dep.
moddir="$work/kernel/lib/modules/$kver"
wanted=(virtio_pci virtio_net virtio_blk vfat nls_cp437 nls_ascii nls_utf8)
declare -A seen=()
add_module() {
  local path
  path=$(grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$moddir/modules.dep" | head -1 | cut -d: -f1)
  [[ -n "$path" ]] || { echo "guest image: kernel module $1 not found" >&2; exit 1; }
  [[ -n "${seen[$path]:-}" ]] && return
  seen[$path]=1
  mkdir -p "$root/lib/modules/$kver/$(dirname "$path")"
  cp "$moddir/$path" "$root/lib/modules/$kver/$path"
  for dep in $(grep -E "^$path:" "$moddir/modules.dep" | cut -d: -f2); do
    local name; name=$(basename "$dep"); add_module "${name%%.ko*}"
  done
}
for m in "${wanted[@]}"; do add_module "$m"; done
cp "$moddir"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$root" "$kver"

mkdir -p "$out"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$out/initrd.img.tmp"
cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$kver" > "$out/kernel-version"
echo "$recipe_hash" > "$stamp"
echo "guest image built: $out (kernel $kver, initrd $(du -h "$out/initrd.img" | cut -f1))"
