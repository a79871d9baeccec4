#!/usr/bin/env bash
# Builds (once, then cached) an IPVS-capable test VM from Debian packages:
#   $CACHE/vmlinux          uncompressed kernel QEMU boots directly (saves ~3 s under TCG)
#   $CACHE/initramfs.cpio   busybox + the modules below + test/vm/init.sh as /init
#   $CACHE/stamp            what the cache was built from; a matching stamp means "nothing to do"
# Needs (apt): qemu-system-x86 xz-utils busybox-static cpio kmod; the kernel is only downloaded
# and unpacked into the cache, never installed on the host.
# Usage: test/vm/build-vm.sh [CACHE_DIR]   (default: <repo>/.cache/vm, or $LBCTL_VM_CACHE)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${1:-${LBCTL_VM_CACHE:-$repo/.cache/vm}}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
# Several VM test files call this at once under vitest: one builds, the others wait and find it cached.
exec 9>"$cache/build.lock"
flock 9

# Modules in the order we want them loaded; dependencies are resolved by modprobe --show-depends.
# Schedulers that this kernel does not ship (e.g. twos before 6.x) are skipped.
wanted_modules=(
  virtio_pci 9pnet_virtio 9p overlay virtio_console
  nf_conntrack ip_vs
  ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh
  ip_vs_sed ip_vs_nq ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_twos ip_vs_pe_sip ip_vs_ftp
  veth bridge ipip ip6_tunnel
)

for tool in xz cpio depmod modprobe busybox dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || { echo "build-vm: missing '$tool' (apt-get install qemu-system-x86 xz-utils busybox-static cpio kmod)" >&2; exit 2; }
done

# The stamp covers the inputs we control; the kernel version is only looked up when not cached,
# so a cached run works offline and takes no apt round trip.
inputs_hash="$( (cat "$here/build-vm.sh" "$here/init.sh" "$here/init-systemd.sh" "$here/init-root.sh"; printf '%s\n' "${wanted_modules[@]}"; sha256sum "$(command -v busybox)") | sha256sum | cut -c1-16)"
if [[ -f "$cache/stamp" && -f "$cache/vmlinux" && -f "$cache/initramfs.cpio" ]] && grep -qx "inputs=$inputs_hash" "$cache/stamp"; then
  echo "build-vm: cached ($(grep '^kernel=' "$cache/stamp"))"
  exit 0
fi

kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1; }
pkg="$(kernel_pkg)"
if [[ -z "$pkg" ]]; then
  apt-get update -qq
  pkg="$(kernel_pkg)"
fi
[[ -n "$pkg" ]] || { echo "build-vm: apt-cache does not know linux-image-amd64" >&2; exit 2; }
kver="${pkg#linux-image-}"

work="$cache/work"
rm -rf "$work"
mkdir -p "$work/deb"
(
  cd "$work/deb"
  apt-get download "$pkg" >/dev/null 2>&1 || { apt-get update -qq && apt-get download "$pkg" >/dev/null 2>&1; }
)
deb="$(ls "$work"/deb/*.deb)"
dpkg-deb -x "$deb" "$work/root"
moddir="$work/root/lib/modules/$kver"
[[ -d "$moddir" ]] || { echo "build-vm: $deb has no modules for $kver" >&2; exit 2; }

# vmlinuz is a bzImage wrapping an xz stream: start at the first xz magic (FD 37 7A 58 5A 00).
vmlinuz="$work/root/boot/vmlinuz-$kver"
offset="$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)"
[[ -n "$offset" ]] || { echo "build-vm: no xz stream in $vmlinuz" >&2; exit 2; }
# (tail gets SIGPIPE when xz stops at the end of the stream: that is expected)
{ tail -c +"$((offset + 1))" "$vmlinuz" || true; } | xz -dc --single-stream > "$work/vmlinux"
head -c 4 "$work/vmlinux" | grep -q 'ELF' || { echo "build-vm: extracted kernel is not an ELF" >&2; exit 2; }

# initramfs tree
ird="$work/initramfs"
mkdir -p "$ird"/{bin,dev,proc,sys,lib/modules,mnt/host,mnt/rw,mnt/results,newroot}
cp "$(command -v busybox)" "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"
install -m 0755 "$here/init.sh" "$ird/init"
install -m 0644 "$here/init-root.sh" "$ird/init-root.sh"
# rdinit=/init-systemd boots a real systemd as PID 1 instead (the systemd unit tests).
install -m 0755 "$here/init-systemd.sh" "$ird/init-systemd"

depmod -b "$work/root" "$kver"
: > "$ird/lib/modules/load-order"
declare -A seen=()
for m in "${wanted_modules[@]}"; do
  deps="$(modprobe -d "$work/root" -S "$kver" --show-depends "$m" 2>/dev/null)" || { echo "build-vm: kernel $kver has no module $m (skipped)"; continue; }
  while read -r verb path _; do
    [[ "$verb" == insmod ]] || continue  # "builtin X" lines need nothing
    name="$(basename "$path")"
    [[ -n "${seen[$name]:-}" ]] && continue
    seen[$name]=1
    case "$name" in
      *.ko.xz) xz -dc "$path" > "$ird/lib/modules/${name%.xz}"; name="${name%.xz}" ;;
      *.ko.zst) zstd -qdc "$path" > "$ird/lib/modules/${name%.zst}"; name="${name%.zst}" ;;
      *) cp "$path" "$ird/lib/modules/$name" ;;
    esac
    echo "$name" >> "$ird/lib/modules/load-order"
  done <<< "$deps"
done

(cd "$ird" && find . -print0 | cpio --null -o -H newc --quiet) > "$work/initramfs.cpio"

mv -f "$work/vmlinux" "$cache/vmlinux"
mv -f "$work/initramfs.cpio" "$cache/initramfs.cpio"
cp "$ird/lib/modules/load-order" "$cache/modules.txt"
printf 'inputs=%s\nkernel=%s\n' "$inputs_hash" "$kver" > "$cache/stamp"
rm -rf "$work"
echo "build-vm: built kernel $kver ($(wc -l < "$cache/modules.txt") modules) in $cache"
