#!/bin/sh
# Builds bpfkit (Release) and runs the engine benchmarks: interpreter and JIT in
# ns per instruction against uBPF's reference figures, then bpfkit's JIT against
# the Linux kernel's JIT (the kernel side needs root). Ends with both ratio tables.
#
#   scripts/bench-engines.sh            # build dir: build-release
#   BUILD_DIR=/tmp/b BENCH_MIN_TIME=1 scripts/bench-engines.sh
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build-release}
min_time=${BENCH_MIN_TIME:-0.5}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBPFKIT_BENCH=ON >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target bench_engines bench_jit_vs_kernel

engines_out="$build/bench_engines.txt"
kernel_out="$build/bench_jit_vs_kernel.txt"
echo "== bench_engines =="
"$build/bench_engines" --benchmark_min_time="$min_time" | tee "$engines_out"
echo
echo "== bench_jit_vs_kernel =="
"$build/bench_jit_vs_kernel" --benchmark_min_time="$min_time" | tee "$kernel_out"

echo
echo "================ summary ================"
sed -n '/^bpfkit engines/,$p' "$engines_out"
echo
grep '^kernel side skipped' "$kernel_out" || true
sed -n '/^bpfkit JIT vs Linux kernel JIT/,$p' "$kernel_out"
