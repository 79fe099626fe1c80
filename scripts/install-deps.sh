#!/bin/sh
# Installs everything bpfkit builds, tests and benchmarks with, from Debian's archive.
set -eu
PKGS="cmake g++ make pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libcapstone-dev
  clang llvm libclang-rt-14-dev
  linux-libc-dev bpftool iproute2 ccache
  libpcap-dev nlohmann-json3-dev libbpf-dev bpftrace"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "bpfkit: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing
fi
