#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian packages a target needs, only those missing.
# usage: tests/deps.sh build|bochs|qemu|unit|fuzz|tools|linux|all
set -euo pipefail

pkgs_build="gcc make binutils nasm grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools"
pkgs_bochs="bochs bochsbios vgabios"
pkgs_qemu="qemu-system-x86 ovmf"
pkgs_unit="libcmocka-dev"
# make fuzz-host and make test's short fuzz runs: clang with libFuzzer and the sanitizer
# runtimes (libclang-rt-dev; Debian's clang package only recommends them), LLVM's C API
# for fuzz_insn's disassembler oracle (llvm-14-dev, clang 14's), llvm for make
# fuzz-host-cov (llvm-profdata, llvm-cov).
pkgs_fuzz="clang libclang-rt-dev llvm-14-dev llvm"
pkgs_tools="python3 python3-matplotlib" # tools/umbra-stat (make bench's tables and charts, its tests)
# The Linux/KVM test payload (tests/linux/payload.sh): the kernel and busybox are
# downloaded with apt-get download and unpacked under build/, not installed.
pkgs_linux="cpio xz-utils gzip libc6-dev gcc"

want=""
for what in "$@"; do
	case "$what" in
	build) want="$want $pkgs_build" ;;
	bochs) want="$want $pkgs_build $pkgs_bochs $pkgs_tools" ;;
	qemu) want="$want $pkgs_build $pkgs_qemu" ;;
	unit) want="$want gcc make $pkgs_unit" ;;
	fuzz) want="$want make $pkgs_fuzz" ;;
	tools) want="$want $pkgs_tools" ;;
	linux) want="$want $pkgs_linux" ;;
	all) want="$want $pkgs_build $pkgs_bochs $pkgs_qemu $pkgs_unit $pkgs_fuzz $pkgs_tools $pkgs_linux" ;;
	*) echo "deps.sh: unknown group '$what'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $missing >/dev/null
