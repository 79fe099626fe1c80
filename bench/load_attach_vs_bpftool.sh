#!/bin/sh
# Load+attach time of the examples: `bpfkit run --target linux OBJ --duration 0` (open,
# create maps, load BTF and every program, attach each by its section, detach, print
# the maps) against `bpftool prog loadall OBJ DIR` (open, create maps, load, pin; no
# attach) of the same object, run alternately in one loop. Prints medians and the
# ratio bpfkit / bpftool per object (below 1: bpfkit is faster). Needs root.
#
#   bench/load_attach_vs_bpftool.sh [BUILD_DIR] [RUNS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
runs=${2:-15}
bpfkit=$build/bpfkit
command -v bpftool >/dev/null || { echo "bpftool is not installed (scripts/install-deps.sh)"; exit 1; }
[ -x "$bpfkit" ] || { echo "$bpfkit is missing: build first"; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
pins=/sys/fs/bpf/bpfkit-bench-$$
trap 'rm -rf "$pins"' EXIT

now_us() { echo $(( $(date +%s%N) / 1000 )); }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '%-22s %14s %14s %8s\n' object "bpfkit (us)" "bpftool (us)" ratio
for obj in "$build"/examples/*.bpf.o; do
  name=$(basename "$obj" .bpf.o)
  extra=""
  # XDP / tc programs attach to an interface: loopback is always there.
  case $name in xdp_*|ringbuf_events) extra="--iface lo --xdp-mode generic" ;; esac
  kt=""; bt=""
  i=0
  while [ $i -lt "$runs" ]; do
    t0=$(now_us)
    "$bpfkit" run --target linux "$obj" --duration 0 --no-printk $extra >/dev/null 2>&1 || {
      echo "$name: bpfkit run failed:"; "$bpfkit" run --target linux "$obj" --duration 0 --no-printk $extra; exit 1; }
    t1=$(now_us)
    bpftool prog loadall "$obj" "$pins" >/dev/null 2>&1 || { echo "$name: bpftool prog loadall failed"; exit 1; }
    t2=$(now_us)
    rm -rf "$pins"
    kt="$kt $((t1 - t0))"; bt="$bt $((t2 - t1))"
    i=$((i + 1))
  done
  km=$(echo $kt | tr ' ' '\n' | median); bm=$(echo $bt | tr ' ' '\n' | median)
  printf '%-22s %14s %14s %8.2f\n' "$name" "$km" "$bm" "$(echo "$km $bm" | awk '{ print $1 / $2 }')"
done
