#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# make coverage's default extra campaign: the differential VMX fuzzer (tests/fuzz/campaign.sh)
# on the COVERAGE=1 build, its boots kept under $COVERAGE_LOGS where their dumps are collected.
# usage (by tests/coverage/run.sh): tests/coverage/fuzz.sh BUILD_DIR
#   COVERAGE_FUZZ_SEEDS (default 200) x COVERAGE_FUZZ_STEPS (default 300)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
exec "$root/tests/fuzz/campaign.sh" --build "${1:?usage: fuzz.sh BUILD_DIR}" \
	--seeds "${COVERAGE_FUZZ_SEEDS:-200}" --steps "${COVERAGE_FUZZ_STEPS:-300}" --out "${COVERAGE_LOGS:?}"
