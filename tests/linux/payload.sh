#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Build the Linux/KVM test payload from Debian packages: kernel, vmlinux, initramfs.
#
# usage: tests/linux/payload.sh [BUILD_DIR]
# Prints the payload directory on stdout. It holds:
#   bzImage     Debian's kernel as packaged (for GRUB's `linux` command)
#   vmlinux     the uncompressed ELF inside it (for a PVH loader)
#   initrd.gz   cpio newc + gzip: busybox, kvm.ko, kvm-intel.ko, irqbypass.ko, kvm_l2, /init
#   versions    the packages it was built from
# The payload is cached under BUILD_DIR/linux/, keyed on the package versions and the
# hashes of its sources, so a second run only prints the directory.
# Exit status: 0 built (or cached), 77 a Debian package is unavailable (the reason on
# stderr), 1 anything else.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
cache="$build/linux"
mkdir -p "$cache/debs"

unavailable() {
	echo "payload.sh: $*" >&2
	exit 77
}

# Version apt would install now (empty when the package is unknown).
candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2 }'
}

# Package lists may be missing on a fresh machine (deps.sh updates them only when it
# installs something): update them once before calling a package unavailable.
if [ -z "$(candidate busybox-static)" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq >/dev/null 2>&1 || true
fi

# linux-image-amd64 is a metapackage: the image is the package it depends on.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
[ -n "$kpkg" ] || unavailable "Debian package linux-image-amd64 is unavailable (apt-cache knows no kernel image)"
kver=$(candidate "$kpkg")
[ -n "$kver" ] || unavailable "Debian package $kpkg is unavailable"
bver=$(candidate busybox-static)
[ -n "$bver" ] || unavailable "Debian package busybox-static is unavailable"

versions="$kpkg=$kver busybox-static=$bver gcc=$(gcc -dumpfullversion 2>/dev/null || echo none)"
key=$( {
	echo "$versions"
	sha256sum "$here/payload.sh" "$here/init.sh" "$here/kvm_l2.c" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
out="$cache/payload-$key"
if [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi

# --- the packages: downloaded (not installed) and unpacked under build/ -----------------
deb() {
	local pkg=$1 ver=$2 file
	file=$(ls "$cache/debs/${pkg}_"*"_amd64.deb" 2>/dev/null | grep -F "_${ver//:/%3a}_" | head -n 1 || true)
	if [ -z "$file" ]; then
		(cd "$cache/debs" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver") \
			>"$cache/debs/download.log" 2>&1 ||
			unavailable "apt-get download $pkg=$ver failed (see $cache/debs/download.log)"
		file=$(ls "$cache/debs/${pkg}_"*"_amd64.deb" | grep -F "_${ver//:/%3a}_" | head -n 1)
	fi
	echo "$file"
}
kdeb=$(deb "$kpkg" "$kver")
bdeb=$(deb busybox-static "$bver")

work="$cache/work-$key"
rm -rf "$work" "$out"
mkdir -p "$work/kernel" "$work/busybox" "$work/root"
dpkg-deb -x "$kdeb" "$work/kernel"
dpkg-deb -x "$bdeb" "$work/busybox"
kdir=$(ls -d "$work"/kernel/lib/modules/*/ | head -n 1)
bzimage=$(ls "$work"/kernel/boot/vmlinuz-* | head -n 1)

# --- vmlinux: the bzImage's payload is one XZ stream that decompresses to the ELF -------
# The first offset where the XZ stream header magic (FD '7zXZ' 00) starts a stream that
# xz can decompress to an ELF file is the kernel; xz stops at the stream's end and
# complains about the bytes after it, which are not part of the payload.
vmlinux="$work/vmlinux"
for at in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$bzimage" | cut -d: -f1); do
	tail -c +$((at + 1)) "$bzimage" | xz -dc >"$vmlinux" 2>/dev/null || true
	[ "$(head -c 4 "$vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && break
	rm -f "$vmlinux"
done
[ -s "$vmlinux" ] || { echo "payload.sh: no XZ-compressed ELF inside $bzimage" >&2; exit 1; }

# --- the initramfs ------------------------------------------------------------------------
r="$work/root"
mkdir -p "$r/bin" "$r/lib/modules" "$r/proc" "$r/sys" "$r/dev" "$r/tmp"
cp "$work/busybox/bin/busybox" "$r/bin/busybox"
for m in virt/lib/irqbypass.ko arch/x86/kvm/kvm.ko arch/x86/kvm/kvm-intel.ko; do
	src="$kdir/kernel/$m"
	if [ -f "$src.xz" ]; then
		xz -dc "$src.xz" >"$r/lib/modules/$(basename "$m")"
	elif [ -f "$src" ]; then
		cp "$src" "$r/lib/modules/"
	else
		echo "payload.sh: $m is not in $kpkg" >&2
		exit 1
	fi
done
gcc -static -O2 -Wall -Wextra -Werror -o "$r/bin/kvm_l2" "$here/kvm_l2.c"
install -m 755 "$here/init.sh" "$r/init"
(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) | gzip -9 >"$work/initrd.gz"

mkdir -p "$out"
mv "$vmlinux" "$work/initrd.gz" "$out/"
cp "$bzimage" "$out/bzImage"
echo "$versions" >"$out/versions"
rm -rf "$work"
touch "$out/done"
# Payloads of older sources or packages are ~80 MB each: keep only this one.
for old in "$cache"/payload-*; do
	[ "$old" = "$out" ] || rm -rf "$old"
done
echo "$out"
