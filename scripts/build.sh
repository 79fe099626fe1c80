#!/bin/sh
# Configures and builds bpfkit into build/ (or $BPFKIT_BUILD_DIR), with extra CMake arguments passed through.
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR="${BPFKIT_BUILD_DIR:-build}"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BPFKIT_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
