#!/bin/sh
# The main job on the userspace target: install, build (bpfkit and the clang-compiled
# examples), then run the XDP blocklist example over generated traffic and print its
# verdict counts and map contents; then the smaller examples.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
B=build/bpfkit
set -x
$B gen-pcap build/sample.pcap --packets 10000 --seed 1
$B run build/examples/xdp_blocklist.bpf.o --pcap build/sample.pcap --out build/passed.pcap \
  --map blocklist=examples/blocklist.json --dump-maps
$B run build/examples/open_counter.bpf.o --ctx examples/openat_events.json --dump-maps
$B run build/examples/hello.bpf.o --ctx examples/write_events.json
$B gen-pcap build/small.pcap --packets 5 --seed 7
$B run build/examples/ringbuf_events.bpf.o --pcap build/small.pcap --event-type packet_event
$B asm examples/fibonacci.s -o build/fibonacci.o
$B run build/fibonacci.o --engine jit
