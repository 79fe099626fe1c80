#!/bin/sh
# The main job on the userspace target: install, build, then assemble an example
# program, disassemble it, and run it on both engines (interpreter and x86-64 JIT).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
B=build/bpfkit
set -x
$B asm examples/fibonacci.s -o build/fibonacci.o
$B disasm build/fibonacci.o
$B run build/fibonacci.o --engine interp
$B run build/fibonacci.o --engine jit
$B run examples/checksum.s --mem "45 00 00 1c 00 00 40 00 40 11 00 00 0a 00 00 01 0a 00 00 02"
