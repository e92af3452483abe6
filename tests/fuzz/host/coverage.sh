#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Line and branch coverage of the parsers by the host fuzzers' corpora (llvm-cov).
#
# usage: tests/fuzz/host/coverage.sh BUILD_DIR "NAME..." FILE...
# Replays every input of each harness's corpus (the one make fuzz-host keeps in
# BUILD_DIR/fuzz-host/<name>/corpus, and the in-tree seeds) once through its
# coverage build BUILD_DIR/fuzz-host/cov/fuzz_<name>, merges the profiles and prints,
# for each FILE, what all the harnesses together executed:
#   FUZZ-HOST-COV <file> lines=NN.N% branches=NN.N% functions=N/N
# then the lines never executed, as llvm-cov shows them, in BUILD_DIR/fuzz-host/cov/missed.txt.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=$1 names=$2
shift 2
cov="$build/fuzz-host/cov"
objects=() profiles=()
for name in $names; do
	bin="$cov/fuzz_$name"
	dirs=()
	[ -d "$build/fuzz-host/$name/corpus" ] && dirs+=("$build/fuzz-host/$name/corpus")
	[ -d "$here/corpus/$name" ] && dirs+=("$here/corpus/$name")
	rm -f "$cov/$name.profraw"
	# -runs=0: each input once, nothing new; the harness's own checks still apply.
	LLVM_PROFILE_FILE="$cov/$name.profraw" "$bin" -runs=0 "${dirs[@]}" >"$cov/$name.log" 2>&1 || {
		echo "coverage.sh: fuzz_$name failed on its corpus; see $cov/$name.log" >&2
		exit 1
	}
	objects+=(-object "$bin")
	profiles+=("$cov/$name.profraw")
done
llvm-profdata merge -o "$cov/all.profdata" "${profiles[@]}"
# llvm-cov report columns: file, regions (3), functions (3), lines (3), branches (3).
llvm-cov report "${objects[@]:1}" -instr-profile="$cov/all.profdata" "$@" |
	awk -v root="$(pwd)/" '$1 !~ /^(Filename|TOTAL|-)/ && NF == 13 {
		f = $1; sub(root, "", f)
		printf "FUZZ-HOST-COV %s lines=%s branches=%s functions=%d/%d\n", f, $10, $13, $5 - $6, $5
	}'
llvm-cov show "${objects[@]:1}" -instr-profile="$cov/all.profdata" "$@" |
	awk '/^\/.*:$/ { file = $0 } /^ *[0-9]+\| *0\|/ { print file " " $0 }' >"$cov/missed.txt"
echo "FUZZ-HOST-COV unexecuted lines: $cov/missed.txt"
