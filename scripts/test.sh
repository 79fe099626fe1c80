#!/bin/bash
# Installs, builds and runs every test: unit and kernel cross-check tests (ctest),
# the conformance suite on both engines, the differential fuzzer against the
# kernel, the libFuzzer targets briefly, and the unit tests again under ASan+UBSan.
# Set BPFKIT_SKIP_SANITIZE=1 or BPFKIT_SKIP_FUZZ=1 to leave those stages out locally.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="$(nproc)"
stage() { printf '\n=== %s (%s)\n' "$*" "$(date +%T)"; }

stage "dependencies"
./scripts/install-deps.sh

stage "build (RelWithDebInfo)"
./scripts/build.sh

CONFORMANCE="${BPFKIT_CONFORMANCE_DIR:-$(cd .. && pwd)/shared/conformance-data}"
stage "conformance suite: interpreter"
build/bpfkit conformance "$CONFORMANCE" --engine interp
stage "conformance suite: JIT"
build/bpfkit conformance "$CONFORMANCE" --engine jit

stage "differential fuzzing: interpreter vs JIT vs kernel"
if [ "$(id -u)" = 0 ]; then
  build/bpfkit-difffuzz --iterations 3000 --kernel
else
  echo "not root: the kernel cannot be asked; interpreter vs JIT only"
  build/bpfkit-difffuzz --iterations 3000
fi

stage "verifier soundness fuzzing: what the verifier accepts runs cleanly and alike on every engine"
build/bpfkit-soundfuzz --iterations 1500 --mutations 8

# One clang build serves both the fuzzers and the sanitizer run of the unit tests:
# every library and test is built with ASan + UBSan (and libFuzzer's coverage).
if [ "${BPFKIT_SKIP_FUZZ:-0}" != 1 ] || [ "${BPFKIT_SKIP_SANITIZE:-0}" != 1 ]; then
  stage "build (clang, AddressSanitizer + UBSan, libFuzzer targets)"
  # -O1 with line tables only: sanitizer reports keep file:line, and the build (the longest stage)
  # takes far less time than with full debug info at -O2.
  CC=clang CXX=clang++ BPFKIT_BUILD_DIR=build-san ./scripts/build.sh -DBPFKIT_FUZZ=ON -DBPFKIT_SANITIZE=ON \
    -DBPFKIT_BENCH=OFF -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only -DNDEBUG"
fi

if [ "${BPFKIT_SKIP_FUZZ:-0}" != 1 ]; then
  stage "libFuzzer targets (10 s each)"
  mkdir -p build-san/corpus
  for f in build-san/fuzz_*; do
    [ -x "$f" ] || continue
    name="$(basename "$f")"
    mkdir -p "build-san/corpus/$name"
    printf '%s: ' "$name"
    "$f" -max_total_time=10 -timeout=10 -rss_limit_mb=2048 "build-san/corpus/$name" 2>&1 | tail -n 1
  done
fi

if [ "${BPFKIT_SKIP_SANITIZE:-0}" != 1 ]; then
  stage "unit tests under AddressSanitizer + UBSan"
  # One process per test binary (not ctest's one per test case: ASan start-up would dominate).
  # The kernel cross-check binary runs in the main ctest stage below.
  for t in build-san/bpfkit_*_tests; do
    [ "$(basename "$t")" = bpfkit_kernel_tests ] && continue
    echo "$(basename "$t")"
    "$t" --gtest_brief=1  # prints failures and the summary only
  done
fi

stage "all tests (ctest)"
(cd build && ctest --output-on-failure -j"$JOBS")
