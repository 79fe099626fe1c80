// The runtime helpers against the kernel's: the same program, run by
// BPF_PROG_TEST_RUN and by bpfkit's interpreter on the same packet, must return the
// same value and leave the same packet. Covers the deterministic packet helpers:
// csum_diff, l3/l4_csum_replace, skb_load/store_bytes, xdp_adjust_head/tail/meta
// and redirect.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "../helpers/helper_test_util.h"
#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "target/linux/bpf_syscall.h"
#include "target/linux/trace_pipe.h"

namespace bpfkit {
namespace {

using helpers::testing::TestPacket;
namespace lk = target::linux_kernel;

struct Outcome {
  uint32_t retval = 0;
  std::vector<uint8_t> data;
  bool operator==(const Outcome&) const = default;
};

std::string describe(const Outcome& o) {
  std::string s = "retval " + std::to_string(o.retval) + " (" + std::to_string(int32_t(o.retval)) + "), " +
                  std::to_string(o.data.size()) + " bytes:";
  for (size_t i = 0; i < o.data.size() && i < 64; ++i) {
    char b[4];
    std::snprintf(b, sizeof b, " %02x", o.data[i]);
    s += b;
  }
  return s;
}

Outcome kernel_outcome(bpf_prog_type type, const std::string& text, const std::vector<uint8_t>& packet) {
  const auto insns = isa::assemble(text);
  lk::UniqueFd fd = lk::load_program(type, insns, lk::LoadOptions{.name = "bpfkit_helper"});
  lk::TestRunResult r = lk::test_run_program(fd.get(), packet);
  return {r.retval, r.data_out};
}

// `readable`: memory the program is given besides the packet (checked mode refuses the rest).
Outcome user_outcome(bpf_prog_type type, const std::string& text, const std::vector<uint8_t>& packet,
                     const std::string* readable = nullptr) {
  TestPacket pkt(packet, type);
  core::ExecEnv env = helpers::testing::runtime_env();
  pkt.attach(env);
  if (readable) env.allow(reinterpret_cast<uint64_t>(readable->data()), readable->size() + 1, false);
  const uint64_t r0 = helpers::testing::run_asm(helpers::testing::EngineKind::Interpreter, text, env,
                                                helpers::testing::addr(pkt.ctx));
  // XDP's data_out starts at the metadata, as the kernel's test run returns it.
  const uint8_t* begin = type == BPF_PROG_TYPE_XDP ? pkt.state.meta : pkt.state.data;
  const uint8_t* end = pkt.state.data_end;
  return {uint32_t(r0), std::vector<uint8_t>(begin, end)};
}

class HelpersKernel : public kernel_test::KernelTest {
 protected:
  void expect_same(bpf_prog_type type, const std::string& text, const std::vector<uint8_t>& packet) {
    SCOPED_TRACE(text);
    Outcome k, u;
    try {
      k = kernel_outcome(type, text, packet);
    } catch (const lk::BpfError& e) {
      FAIL() << e.what() << "\n" << e.verifier_log();
    }
    u = user_outcome(type, text, packet);
    EXPECT_EQ(u, k) << "bpfkit: " << describe(u) << "\nkernel: " << describe(k);
  }
};

std::string id(int32_t helper) { return std::to_string(helper); }

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(rng());
  return v;
}

// Ethernet + IPv4 (valid header checksum) + UDP with a checksum field, 60 bytes.
std::vector<uint8_t> udp_packet(uint16_t udp_csum) {
  std::vector<uint8_t> p = {0,
                            1,
                            2,
                            3,
                            4,
                            5,
                            6,
                            7,
                            8,
                            9,
                            10,
                            11,
                            0x08,
                            0x00,
                            0x45,
                            0,
                            0,
                            46,
                            0x12,
                            0x34,
                            0x40,
                            0,
                            64,
                            17,
                            0,
                            0,
                            10,
                            0,
                            0,
                            1,
                            10,
                            0,
                            0,
                            2,
                            0x30,
                            0x39,
                            0x00,
                            0x35,
                            0x00,
                            26,
                            uint8_t(udp_csum >> 8),
                            uint8_t(udp_csum)};
  p.resize(60, 0x5a);
  uint32_t sum = 0;
  for (size_t i = 14; i < 34; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  p[24] = uint8_t(~sum >> 8);
  p[25] = uint8_t(~sum);
  return p;
}

TEST_F(HelpersKernel, CsumDiff) {
  const auto packet = random_bytes(128, 7);
  struct Case {
    int from, to;
    uint32_t seed;
  };
  for (const Case& c : std::vector<Case>{{0, 4, 0},
                                         {0, 8, 0},
                                         {4, 4, 0},
                                         {0, 20, 0},
                                         {0, 40, 0x12345678},
                                         {8, 16, 0xffffffff},
                                         {0, 120, 1},
                                         {60, 64, 0xdeadbeef},
                                         {20, 20, 0},
                                         {12, 0, 0x5555},
                                         {0, 0, 0x1234},
                                         {2, 4, 0},
                                         {0, 6, 0},
                                         {3, 5, 9},
                                         {7, 0, 0xffff0000},
                                         {64, 64, 0}}) {
    const std::string text = R"(
        r6 = r1
        r1 = r6
        r2 = 0
        r3 = r10
        r3 += -128
        r4 = 128
        call )" + id(BPF_FUNC_skb_load_bytes) +
                             R"(
        if r0 != 0 goto fail
        r1 = r10
        r1 += -128
        r2 = )" + std::to_string(c.from) +
                             R"(
        r3 = r10
        r3 += )" + std::to_string(-128 + c.from) +
                             R"(
        r4 = )" + std::to_string(c.to) +
                             R"(
        r5 = )" + helpers::testing::hex(c.seed) +
                             R"( ll
        call )" + id(BPF_FUNC_csum_diff) +
                             R"(
        exit
      fail:
        r0 = 0xdead
        exit
    )";
    expect_same(BPF_PROG_TYPE_SCHED_CLS, text, packet);
  }
}

std::string csum_replace_program(int32_t helper, uint32_t offset, uint64_t from, uint64_t to,
                                 uint64_t flags) {
  return "r2 = " + std::to_string(offset) + "\nr3 = " + helpers::testing::hex(from) +
         " ll\nr4 = " + helpers::testing::hex(to) + " ll\nr5 = " + helpers::testing::hex(flags) +
         " ll\ncall " + id(helper) + "\nexit\n";
}

// Linux 6.18 has no 512-byte limit on from_size + to_size: `from` and `to` may overlap.
TEST_F(HelpersKernel, CsumDiffOfOverlappingBuffers) {
  const auto packet = random_bytes(256, 8);
  for (int size : {200, 256, 255}) {
    const std::string text = R"(
        r6 = r1
        r1 = r6
        r2 = 0
        r3 = r10
        r3 += -256
        r4 = 256
        call )" + id(BPF_FUNC_skb_load_bytes) +
                             R"(
        r1 = r10
        r1 += -256
        r2 = )" + std::to_string(size) +
                             R"(
        r3 = r10
        r3 += -)" + std::to_string(size) +
                             R"(
        r4 = )" + std::to_string(size) +
                             R"(
        r5 = 0
        call )" + id(BPF_FUNC_csum_diff) +
                             R"(
        exit
    )";
    expect_same(BPF_PROG_TYPE_SCHED_CLS, text, packet);
  }
}

TEST_F(HelpersKernel, L3CsumReplace) {
  const auto packet = udp_packet(0xabcd);
  // The IPv4 checksum is at 24; from/to are raw (network-order) loads of the field changed.
  struct Case {
    uint32_t offset;
    uint64_t from, to, flags;
  };
  for (const Case& c : std::vector<Case>{{24, 0x0200000a, 0x0907a8c0, 4},
                                         {24, 0x1140, 0x113f, 2},
                                         {24, 0, 0x12345678, 0},
                                         {24, 0xffffffff, 0, 4},
                                         {24, 0xffff, 0xffff, 2},
                                         {24, 1, 2, 0},
                                         {24, 1, 2, 3},
                                         {25, 1, 2, 2},
                                         {58, 1, 2, 2},
                                         {60, 1, 2, 2},
                                         {24, 1, 2, BPF_F_PSEUDO_HDR | 2},
                                         {0x10000, 1, 2, 2},
                                         {40, 7, 9, 4}}) {
    expect_same(BPF_PROG_TYPE_SCHED_CLS,
                csum_replace_program(BPF_FUNC_l3_csum_replace, c.offset, c.from, c.to, c.flags), packet);
  }
}

TEST_F(HelpersKernel, L4CsumReplace) {
  struct Case {
    uint16_t udp_csum;
    uint64_t from, to, flags;
  };
  const uint64_t mm0 = BPF_F_MARK_MANGLED_0, enforce = BPF_F_MARK_ENFORCE, pseudo = BPF_F_PSEUDO_HDR;
  for (const Case& c : std::vector<Case>{{0xabcd, 0x0200000a, 0x0907a8c0, pseudo | 4},
                                         {0xabcd, 0x3930, 0x5000, 2},
                                         {0, 0x3930, 0x5000, mm0 | 2},
                                         {0, 0x3930, 0x5000, mm0 | enforce | 2},
                                         {0xaaaa, 0x5555, 0xffff, mm0 | 2},
                                         {0xaaaa, 0x5555, 0xffff, 2},
                                         {0x1234, 0, 0xdeadbeef, pseudo},
                                         {0x1234, 1, 2, BPF_F_IPV6 | 2},
                                         {0x1234, 1, 2, 1ull << 9},
                                         {0x1234, 1, 2, 5}}) {
    expect_same(BPF_PROG_TYPE_SCHED_CLS,
                csum_replace_program(BPF_FUNC_l4_csum_replace, 40, c.from, c.to, c.flags),
                udp_packet(c.udp_csum));
  }
}

TEST_F(HelpersKernel, SkbStoreAndLoadBytes) {
  const auto packet = random_bytes(64, 11);
  struct Case {
    uint32_t store_off, store_len;
    uint64_t flags;
    uint32_t load_off, load_len;
  };
  for (const Case& c : std::vector<Case>{{0, 8, 0, 0, 8},
                                         {56, 8, 0, 58, 6},
                                         {57, 8, 0, 57, 8},
                                         {10, 3, 0, 9, 5},
                                         {4, 4, BPF_F_RECOMPUTE_CSUM, 0, 16},
                                         {4, 4, BPF_F_INVALIDATE_HASH, 60, 4},
                                         {4, 4, 4, 61, 4},
                                         {0x80000000u, 1, 0, 0x80000000u, 1},
                                         {64, 1, 0, 64, 1}}) {
    const std::string text = R"(
        r6 = r1
        r2 = 0x1122334455667788 ll
        *(u64 *)(r10 - 8) = r2
        *(u64 *)(r10 - 16) = r2
        *(u64 *)(r10 - 24) = r2
        r1 = r6
        r2 = )" + std::to_string(c.store_off) +
                             R"( ll
        r3 = r10
        r3 += -8
        r4 = )" + std::to_string(c.store_len) +
                             R"(
        r5 = )" + std::to_string(c.flags) +
                             R"(
        call )" + id(BPF_FUNC_skb_store_bytes) +
                             R"(
        r7 = r0
        r1 = r6
        r2 = )" + std::to_string(c.load_off) +
                             R"( ll
        r3 = r10
        r3 += -24
        r4 = )" + std::to_string(c.load_len) +
                             R"(
        call )" + id(BPF_FUNC_skb_load_bytes) +
                             R"(
        r8 = r0
        r9 = *(u16 *)(r10 - 24)
        r9 <<= 16
        r0 = *(u8 *)(r10 - 18)
        r0 <<= 24
        r9 ^= r0
        r7 &= 0xff
        r8 &= 0xff
        r8 <<= 8
        r0 = r7
        r0 |= r8
        r0 ^= r9
        exit
    )";
    expect_same(BPF_PROG_TYPE_SCHED_CLS, text, packet);
  }
}

TEST_F(HelpersKernel, XdpAdjustHeadAndTail) {
  const auto packet = random_bytes(64, 3);
  for (int32_t off : {0, 14, -14, 50, 51, -216, -217, -100, 64, 2000000000}) {
    expect_same(BPF_PROG_TYPE_XDP,
                "r2 = " + std::to_string(off) + "\ncall " + id(BPF_FUNC_xdp_adjust_head) + "\nexit\n",
                packet);
  }
  for (int32_t off : {0, 8, -8, -50, -51, 3456, 3457, 100, -64, 1000}) {
    expect_same(BPF_PROG_TYPE_XDP,
                "r2 = " + std::to_string(off) + "\ncall " + id(BPF_FUNC_xdp_adjust_tail) + "\nexit\n",
                packet);
  }
}

// adjust_meta by `off`, then check that data_meta + expected == data (bit 20 of
// the result says it was not) and move the head by `head`.
TEST_F(HelpersKernel, XdpAdjustMeta) {
  const auto packet = random_bytes(64, 5);
  struct Case {
    int32_t off, expected_len, head;
  };
  for (const Case& c : std::vector<Case>{{-4, 4, 0},
                                         {-32, 32, 0},
                                         {-36, 36, 0},
                                         {-216, 216, 0},
                                         {-220, 0, 0},
                                         {-2, 0, 0},
                                         {4, 0, 0},
                                         {-8, 8, -208},
                                         {-8, 8, -209},
                                         {-8, 8, 20}}) {
    const std::string text = R"(
        r6 = r1
        r2 = )" + std::to_string(c.off) +
                             R"(
        call )" + id(BPF_FUNC_xdp_adjust_meta) +
                             R"(
        r7 = r0
        r7 &= 0xffff
        r2 = *(u32 *)(r6 + 8)
        r3 = *(u32 *)(r6 + 0)
        r2 += )" + std::to_string(c.expected_len) +
                             R"(
        if r2 == r3 goto same
        r7 |= 0x100000
      same:
        r1 = r6
        r2 = )" + std::to_string(c.head) +
                             R"(
        call )" + id(BPF_FUNC_xdp_adjust_head) +
                             R"(
        r0 &= 0xff
        r0 <<= 24
        r0 |= r7
        exit
    )";
    expect_same(BPF_PROG_TYPE_XDP, text, packet);
  }
}

TEST_F(HelpersKernel, Redirect) {
  const auto packet = random_bytes(64, 9);
  for (uint64_t flags : {0ull, 1ull, 2ull}) {
    const std::string text =
        "r1 = 5\nr2 = " + std::to_string(flags) + "\ncall " + id(BPF_FUNC_redirect) + "\nexit\n";
    expect_same(BPF_PROG_TYPE_XDP, text, packet);
    expect_same(BPF_PROG_TYPE_SCHED_CLS, text, packet);
  }
}

}  // namespace
}  // namespace bpfkit

namespace bpfkit {
namespace {

namespace lk = target::linux_kernel;

// A read-only (BPF_F_RDONLY_PROG, frozen) one-element array holding `bytes`: what
// ARG_PTR_TO_CONST_STR arguments must point into.
lk::UniqueFd rodata_map(const std::string& bytes) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.map_type = BPF_MAP_TYPE_ARRAY;
  attr.key_size = 4;
  attr.value_size = uint32_t(bytes.size());
  attr.max_entries = 1;
  attr.map_flags = BPF_F_RDONLY_PROG;
  lk::UniqueFd fd(int(syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof attr)));
  if (!fd) throw lk::BpfError("creating a read-only array", errno);
  const uint32_t key = 0;
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = uint32_t(fd.get());
  attr.key = reinterpret_cast<uint64_t>(&key);
  attr.value = reinterpret_cast<uint64_t>(bytes.data());
  if (syscall(__NR_bpf, BPF_MAP_UPDATE_ELEM, &attr, sizeof attr) < 0) throw lk::BpfError("filling it", errno);
  std::memset(&attr, 0, sizeof attr);
  attr.map_fd = uint32_t(fd.get());
  if (syscall(__NR_bpf, BPF_MAP_FREEZE, &attr, sizeof attr) < 0) throw lk::BpfError("freezing it", errno);
  return fd;
}

// An argument: a number, or (ref) the address of byte `value` of the read-only data.
struct Arg {
  uint64_t value;
  bool ref = false;
};

// rodata: the format at offset 0, then NUL-separated strings/addresses the arguments name.
// The program formats into a zeroed 64-byte stack buffer with bpf_snprintf (or compares
// with bpf_strncmp) and copies the buffer into the packet; it returns the helper's result.
std::string format_program(int32_t helper, const std::string& rodata_at, const std::vector<Arg>& args,
                           uint32_t out_size, uint32_t cmp_size = 0) {
  std::string t = "r6 = r1\nr1 = 0\n";
  for (int off = 8; off <= 64; off += 8) t += "*(u64 *)(r10 - " + std::to_string(off) + ") = r1\n";
  for (size_t i = 0; i < args.size(); ++i) {
    t += args[i].ref ? "r1 = " + rodata_at + "\nr1 += " + std::to_string(args[i].value) + "\n"
                     : "r1 = " + helpers::testing::hex(args[i].value) + " ll\n";
    t += "*(u64 *)(r10 - " + std::to_string(160 - 8 * i) + ") = r1\n";
  }
  if (helper == BPF_FUNC_snprintf) {
    t += "r1 = r10\nr1 += -64\nr2 = " + std::to_string(out_size) + "\nr3 = " + rodata_at +
         "\nr4 = r10\nr4 += -160\nr5 = " + std::to_string(8 * args.size()) + "\n";
  } else {
    // strncmp(the packet's first bytes copied to the stack, cmp_size, rodata)
    t +=
        "r7 = 0xdead\nr2 = *(u32 *)(r6 + 0)\nr3 = *(u32 *)(r6 + 4)\nr4 = r2\nr4 += 32\nif r4 > r3 goto out\n";
    for (int off = 0; off < 32; off += 8) {
      t += "r5 = *(u64 *)(r2 + " + std::to_string(off) + ")\n*(u64 *)(r10 - " + std::to_string(64 - off) +
           ") = r5\n";
    }
    t += "r1 = r10\nr1 += -64\nr2 = " + std::to_string(cmp_size) + "\nr3 = " + rodata_at + "\n";
  }
  t += "call " + std::to_string(helper) + "\nr7 = r0\n";
  t += "r2 = *(u32 *)(r6 + 0)\nr3 = *(u32 *)(r6 + 4)\nr4 = r2\nr4 += 64\nif r4 > r3 goto out\n";
  for (int off = 8; off <= 64; off += 8) {
    t += "r5 = *(u64 *)(r10 - " + std::to_string(off) + ")\n*(u64 *)(r2 + " + std::to_string(64 - off) +
         ") = r5\n";
  }
  t += "out:\nr0 = r7\nexit\n";
  return t;
}

class FormatKernel : public kernel_test::KernelTest {
 protected:
  void expect_same(int32_t helper, const std::string& rodata, const std::vector<Arg>& args, uint32_t out_size,
                   const std::vector<uint8_t>& packet, uint32_t cmp_size = 0) {
    SCOPED_TRACE("rodata \"" + rodata.substr(0, rodata.find('\0')) + "\"");
    lk::UniqueFd map = rodata_map(rodata);
    Outcome k;
    bool refused = false;
    const std::string ktext = format_program(helper, "map_value(" + std::to_string(map.get()) + ", 0) ll",
                                             args, out_size, cmp_size);
    try {
      const auto insns = isa::assemble(ktext);
      lk::UniqueFd fd = lk::load_program(BPF_PROG_TYPE_XDP, insns, lk::LoadOptions{.name = "bpfkit_fmt"});
      lk::TestRunResult r = lk::test_run_program(fd.get(), packet);
      k = {r.retval, r.data_out};
    } catch (const lk::BpfError& e) {
      // The verifier checks a constant format at load time: where it refuses one,
      // bpfkit's helper (which has no verifier in front of it here) returns -EINVAL.
      if (e.error_number() != EINVAL) FAIL() << e.what() << "\n" << e.verifier_log();
      k.retval = uint32_t(-EINVAL);
      refused = true;
    }
    const std::string utext =
        format_program(helper, helpers::testing::hex(reinterpret_cast<uint64_t>(rodata.data())) + " ll", args,
                       out_size, cmp_size);
    const Outcome u = user_outcome(BPF_PROG_TYPE_XDP, utext, packet, &rodata);
    if (refused) {
      EXPECT_EQ(u.retval, k.retval) << "the kernel refuses this format; bpfkit returned "
                                    << int32_t(u.retval);
      return;
    }
    EXPECT_EQ(u, k) << "bpfkit: " << describe(u) << "\nkernel: " << describe(k)
                    << "\nbpfkit text: " << std::string(u.data.begin(), u.data.end()).c_str()
                    << "\nkernel text: " << std::string(k.data.begin(), k.data.end()).c_str();
  }
};

std::string with_tail(const std::string& fmt, const std::string& tail) {
  std::string s = fmt;
  s.push_back('\0');
  s += tail;
  s.resize((s.size() + 8) & ~size_t(7), '\0');
  return s;
}

TEST_F(FormatKernel, Snprintf) {
  const std::vector<uint8_t> packet(64, 0);
  // Strings and addresses the %s / %pI* arguments point at, after the format.
  const std::string tail = std::string("word\0", 5) + std::string("\xc0\xa8\x01\x02", 4) +
                           std::string("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
  struct Case {
    std::string fmt;
    std::vector<Arg> args;  // refs are offsets into the tail
    uint32_t out_size = 64;
  };
  const std::vector<Case> cases = {
      {"%d|%5d|%-5d|%05d", {{uint64_t(-7)}, {42}, {42}, {42}}},
      {"%u %x %X %lx %llu", {{uint64_t(-1)}, {0xbeef}, {0xbeef}, {0x123456789ab}, {uint64_t(-1)}}},
      {"%+d % d %+u %ld %lld %i", {{5}, {5}, {5}, {uint64_t(-9)}, {uint64_t(-9)}, {0x100000003}}},
      {"%c%c%3c|%-3c|", {{'h'}, {'i'}, {'x'}, {'y'}}},
      {"%s|%8s|%-6s|", {{0, true}, {0, true}, {0, true}}},
      {"%pI4 %pi4", {{5, true}, {5, true}}},
      {"%pI6", {{9, true}}},
      {"%pi6", {{9, true}}},
      {"%pI6c", {{9, true}}},
      {"%pks!", {{0, true}}},
      {"100%% %d", {{1}}},
      {"%d %d %d %d %d %d %d %d %d %d %d %d",
       {{1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, {11}, {12}}},
      {"a longer line than the buffer holds: %d", {{123456}}, 16},
      {"%d", {{1}}, 0},
      {"%d %d", {{1}}},
      {"%#x", {{1}}},
      {"%.2d", {{1}}},
      {"%hd", {{1}}},
      {"%f", {{1}}},
      {"%sx", {{0, true}}},
      {"%pZ", {{1}}},
      {"%5", {{1}}},
      {"tab\there", {}},
      {"bell\a", {}},
  };
  for (const Case& c : cases) {
    // Tail offsets become offsets into the whole read-only value.
    const std::string rodata = with_tail(c.fmt, tail);
    std::vector<Arg> args = c.args;
    for (Arg& a : args) {
      if (a.ref) a.value += c.fmt.size() + 1;
    }
    expect_same(BPF_FUNC_snprintf, rodata, args, c.out_size, packet);
  }
}

TEST_F(FormatKernel, Strncmp) {
  std::vector<uint8_t> packet(64, 0);
  const std::string text = "hello world";
  std::copy(text.begin(), text.end(), packet.begin());
  for (const auto& [str, n] : std::vector<std::pair<std::string, uint32_t>>{{"hello world", 32},
                                                                            {"hello", 5},
                                                                            {"hello", 6},
                                                                            {"hellp", 32},
                                                                            {"hella", 32},
                                                                            {"", 1},
                                                                            {"h", 1},
                                                                            {"hello world!", 32},
                                                                            {"\xff", 4}}) {
    expect_same(BPF_FUNC_strncmp, with_tail(str, ""), {}, 0, packet, n);
  }
}

}  // namespace
}  // namespace bpfkit

namespace bpfkit {
namespace {

namespace lk = target::linux_kernel;

// Stores `text` (NUL-padded to 8 bytes) on the stack at r10 - size and leaves its size in r2.
std::string stack_string(const std::string& text, size_t& size) {
  std::string bytes = text;
  bytes.push_back('\0');
  bytes.resize((bytes.size() + 7) & ~size_t(7), '\0');
  size = bytes.size();
  std::string t;
  for (size_t i = 0; i < bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    t += "r1 = " + helpers::testing::hex(word) + " ll\n*(u64 *)(r10 - " + std::to_string(bytes.size() - i) +
         ") = r1\n";
  }
  return t;
}

// The bpf_trace_printk text of the line that contains `marker`, read from trace_pipe (held by this
// test for its whole run: lines are consumed by whoever reads them, one reader at a time); "" when none
// comes within `wait_ms`.
std::string trace_line_with(lk::TracePipe& pipe, const std::string& marker, int wait_ms) {
  std::string found;
  for (int waited = 0; found.empty() && waited < wait_ms; waited += 50) {
    pipe.poll(50, [&](const lk::TraceLine& l) {
      if (l.message.find(marker) != std::string::npos) found = l.message;
    });
  }
  return found;
}

class TracePrintkKernel : public kernel_test::KernelTest {};

// bpf_trace_printk's return value and the line it writes, kernel against bpfkit.
TEST_F(TracePrintkKernel, SameLineAndReturnValue) {
  if (access("/sys/kernel/tracing/trace", R_OK) != 0) GTEST_SKIP() << "skipped: tracefs is not mounted";
  lk::TracePipeOptions pipe_options;
  pipe_options.pid = int32_t(getpid());
  pipe_options.busy_wait_ms = 10'000;
  lk::TracePipe pipe(pipe_options);
  const std::vector<uint8_t> packet(64, 0);
  struct Case {
    std::string fmt;
    uint64_t a1, a2, a3;
  };
  int n = 0;
  for (const Case& c : std::vector<Case>{{"%d %u %x|", uint64_t(-3), uint64_t(-3), 0xabc},
                                         {"%5d|%-4x|%03u\n", 7, 0xf, 9},
                                         {"%lld %llx %c", uint64_t(-1), 0x1234567890ull, 'Q'},
                                         {"no args at all", 0, 0, 0},
                                         {"%d %d %d %d", 1, 2, 3},
                                         {"%q", 1, 2, 3}}) {
    const std::string marker = "bpfkit-" + std::to_string(getpid()) + "-" + std::to_string(n++) + " ";
    const std::string fmt = marker + c.fmt;
    size_t size = 0;
    const std::string store = stack_string(fmt, size);  // sets size
    const std::string text = store + "r1 = r10\nr1 += -" + std::to_string(size) + "\nr2 = " +
                             std::to_string(size) + "\nr3 = " + helpers::testing::hex(c.a1) + " ll\nr4 = " +
                             helpers::testing::hex(c.a2) + " ll\nr5 = " + helpers::testing::hex(c.a3) +
                             " ll\ncall " + std::to_string(BPF_FUNC_trace_printk) + "\nexit\n";
    SCOPED_TRACE(fmt);
    lk::UniqueFd fd = lk::load_program(BPF_PROG_TYPE_XDP, isa::assemble(text), lk::LoadOptions{.name = "bpfkit_tp"});
    const uint32_t kernel_ret = lk::test_run_program(fd.get(), packet).retval;
    const std::string kernel_line = trace_line_with(pipe, marker, int32_t(kernel_ret) < 0 ? 100 : 2000);

    core::ExecEnv env = helpers::testing::runtime_env();
    std::vector<std::string> lines;
    env.on_printk = [&](std::string_view l) { lines.emplace_back(l); };
    const uint32_t user_ret = uint32_t(helpers::testing::run_asm(helpers::testing::EngineKind::Interpreter, text, env));
    EXPECT_EQ(user_ret, kernel_ret);
    if (int32_t(kernel_ret) < 0) {
      EXPECT_TRUE(lines.empty());
      EXPECT_EQ(kernel_line, "");
      continue;
    }
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], kernel_line);
  }
}

}  // namespace
}  // namespace bpfkit
