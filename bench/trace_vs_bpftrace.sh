#!/bin/sh
# `bpfkit trace` beside bpftrace on the issue's one-liners, in one run that alternates
# the two tools: start -> probes attached, peak RSS, bytes of mapped files, and the
# per-syscall cost of a counting probe (and its program's own run time, from the
# kernel's BPF run-time statistics); medians and the ratio bpfkit / bpftrace, with
# the goals marked met / not met. Builds nothing; needs root. A missing tool (no
# bpftrace, or a bpfkit without `trace`) is skipped with a message.
#
#   bench/trace_vs_bpftrace.sh [BUILD_DIR] [HARNESS OPTIONS...]
#
# BUILD_DIR holds trace_vs_bpftrace and bpfkit (build them with
# `cmake --build BUILD_DIR --target trace_vs_bpftrace bpfkit`). Harness options:
# --attach-runs N (11), --rss-runs N (3), --cost-rounds N (5), --cost-calls N (25000 per
# batch of 20), --only attach,rss,cost, --verbose (every run, and the largest mapped files),
# --bpfkit-arg ARG (appended to each `bpfkit trace -e PROGRAM`).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
case ${1:-} in
  -*|"") ;;
  *) build=$1; shift ;;
esac
harness=$build/trace_vs_bpftrace
[ -x "$harness" ] || {
  echo "$harness is missing: cmake --build $build --target trace_vs_bpftrace bpfkit"
  exit 1
}
[ "$(id -u)" -eq 0 ] || { echo "needs root: both tools load BPF programs"; exit 1; }
bpftrace=$(command -v bpftrace || echo /usr/bin/bpftrace)
[ -x "$build/bpfkit" ] || echo "note: $build/bpfkit is missing: bpfkit's columns will be empty"
exec "$harness" --bpftrace "$bpftrace" --bpfkit "$build/bpfkit" "$@"
