// PacketContext against BPF_PROG_TEST_RUN: every context field a packet program
// may read, on several frames, with and without ctx_in, read by one small program
// per field in the kernel and on bpfkit's interpreter; then ctx_out, data_out and
// the ctx_in checks.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/packet_context.h"
#include "core/program_type.h"
#include "isa/assembler.h"
#include "kernel_test_util.h"
#include "target/linux/test_run_ctx.h"
#include "vm/engine.h"

namespace bpfkit {
namespace {

using core::CtxField;
using core::CtxFieldKind;
using core::PacketContext;
using core::ProgramTypeInfo;
namespace lk = target::linux_kernel;

struct TestRun {
  uint32_t retval = 0;
  std::vector<uint8_t> data_out, ctx_out;
  std::string error;  // set when the run was refused (kernel errno text / bpfkit Error)
};

lk::UniqueFd kernel_load(uint32_t type, const std::vector<isa::RawInsn>& insns) {
  return lk::load_program(bpf_prog_type(type), insns, lk::LoadOptions{.name = "bpfkit_ctx"});
}

TestRun kernel_run_fd(int fd, const std::vector<uint8_t>& packet, const std::vector<uint8_t>& ctx_in,
                      size_t ctx_out_size) {
  TestRun r;
  try {
    lk::CtxTestRunResult k = lk::test_run_with_ctx(fd, packet, ctx_in, ctx_out_size, 1);
    r.retval = k.retval;
    r.data_out = std::move(k.data_out);
    r.ctx_out = std::move(k.ctx_out);
  } catch (const lk::BpfError& e) {
    r.error = e.what();
  }
  return r;
}

TestRun kernel_run(uint32_t type, const std::vector<isa::RawInsn>& insns, const std::vector<uint8_t>& packet,
                   const std::vector<uint8_t>& ctx_in, size_t ctx_out_size) {
  return kernel_run_fd(kernel_load(type, insns).get(), packet, ctx_in, ctx_out_size);
}

TestRun bpfkit_run(uint32_t type, const std::vector<isa::RawInsn>& insns, const std::vector<uint8_t>& packet,
               const std::vector<uint8_t>& ctx_in) {
  PacketContext pc(type);
  TestRun r;
  try {
    pc.reset(packet, ctx_in);
  } catch (const Error& e) {
    r.error = e.what();
    return r;
  }
  vm::Program program(insns);
  auto engine = vm::make_interpreter(program, {.checked = true});
  core::ExecEnv env;
  env.ctx = pc.ctx();
  env.packet = &pc.state();
  pc.add_regions(env);
  r.retval = uint32_t(engine->run(pc.ctx(), 0, env));
  std::span<const uint8_t> out = pc.packet_out();
  r.data_out.assign(out.begin(), out.end());
  r.ctx_out = pc.ctx_out();
  return r;
}

// Frames: Ethernet + IPv4/UDP, IPv6/UDP, ARP and an 802.3 length frame, to several destinations.
std::vector<uint8_t> frame(const uint8_t dst[6], uint16_t ethertype, size_t size) {
  std::vector<uint8_t> f(size, 0);
  std::memcpy(f.data(), dst, 6);
  const uint8_t src[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  std::memcpy(f.data() + 6, src, 6);
  f[12] = uint8_t(ethertype >> 8);
  f[13] = uint8_t(ethertype);
  for (size_t i = 14; i < size; ++i) f[i] = uint8_t(i * 7);
  if (ethertype == 0x0800) {
    f[14] = 0x45;
    f[23] = 17;
    const uint8_t addrs[8] = {10, 0, 0, 1, 192, 168, 7, 9};
    std::memcpy(&f[26], addrs, 8);
  } else if (ethertype == 0x86dd) {
    f[14] = 0x60;
    f[20] = 17;
  }
  return f;
}

std::vector<std::vector<uint8_t>> test_frames() {
  const uint8_t zero[6] = {0, 0, 0, 0, 0, 0};
  const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
  const uint8_t other[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  return {frame(zero, 0x0800, 128), frame(bcast, 0x0806, 60), frame(mcast, 0x86dd, 200),
          frame(other, 0x0800, 64), frame(other, 0x0040, 80)};
}

// Programs reading one field. Packet pointers are read as differences (the addresses
// themselves differ between the two), 8-byte fields in two halves.
struct FieldProgram {
  std::string what;
  std::string text;
  // What bpfkit runs to get the kernel's answer, when it differs from `text`: a narrow
  // load at least as wide as the kernel's own field reads that whole field in the
  // kernel (CtxField::kernel_size); bpfkit leaves that rewrite to its loader.
  std::string bpfkit_text;
};

std::vector<FieldProgram> field_programs(const ProgramTypeInfo& info) {
  std::vector<FieldProgram> out;
  auto load = [](const CtxField& f, uint32_t off_in_field, uint32_t size) {
    static const char* kSize[] = {"", "u8", "u16", "", "u32", "", "", "", "u64"};
    return "r0 = *(" + std::string(kSize[size]) + " *)(r1 + " + std::to_string(f.offset + off_in_field) + ")\n";
  };
  const CtxField* data = nullptr;
  const CtxField* end = nullptr;
  const CtxField* meta = nullptr;
  for (const CtxField& f : info.ctx_fields) {
    // Fields for one attach type (xdp_md.egress_ifindex: devmap programs) have no test run.
    if (f.attach_type) continue;
    switch (f.kind) {
      case CtxFieldKind::PacketData: data = &f; break;
      case CtxFieldKind::PacketEnd: end = &f; break;
      case CtxFieldKind::PacketMeta: meta = &f; break;
      case CtxFieldKind::Socket: break;  // the kernel's test run has a socket, bpfkit none: see below
      case CtxFieldKind::Scalar:
        if (f.size == 8) {
          out.push_back({f.name + " (low)", load(f, 0, 8) + "exit"});
          out.push_back({f.name + " (high)", load(f, 0, 8) + "r0 >>= 32\nexit"});
        } else if (f.size > 8 || f.narrow_writes) {
          for (uint32_t i = 0; i < f.size; i += 4) {
            out.push_back({f.name + "+" + std::to_string(i), load(f, i, 4) + "exit"});
          }
        } else {
          out.push_back({f.name, load(f, 0, f.size) + "exit"});
          // Narrow loads: the low byte and the high half, as the kernel rewrites them.
          if (f.narrow_reads && f.size == 4) {
            for (auto [off, size] : {std::pair{3u, 1u}, std::pair{2u, 2u}}) {
              std::string what = f.name + " (u" + std::to_string(size * 8) + " at +" + std::to_string(off) + ")";
              std::string whole = f.kernel_size && size >= f.kernel_size ? load(f, 0, size) + "exit" : "";
              out.push_back({what, load(f, off, size) + "exit", whole});
            }
          }
        }
        break;
    }
  }
  auto ptr = [](const CtxField* f, const char* reg) {
    return "r" + std::string(reg) + " = *(u32 *)(r1 + " + std::to_string(f->offset) + ")\n";
  };
  if (data && end) out.push_back({"data_end - data", ptr(end, "0") + ptr(data, "2") + "r0 -= r2\nexit"});
  if (data && meta) out.push_back({"data - data_meta", ptr(data, "0") + ptr(meta, "2") + "r0 -= r2\nexit"});
  // The first packet bytes through the data pointer, with the bounds check the verifier wants.
  if (data && end) {
    out.push_back({"*(u32 *)data", ptr(data, "2") + ptr(end, "3") +
                                       "r0 = 0\nr4 = r2\nr4 += 4\nif r4 > r3 goto +1\nr0 = *(u32 *)(r2 + 0)\nexit"});
  }
  return out;
}

std::vector<uint8_t> xdp_ctx_in(uint32_t meta_len, uint32_t size, uint32_t ifindex, uint32_t queue) {
  xdp_md md{};
  md.data = meta_len;
  md.data_end = size;
  md.ingress_ifindex = ifindex;
  md.rx_queue_index = queue;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&md);
  return {p, p + sizeof(md)};
}

std::vector<uint8_t> skb_ctx_in(uint32_t len) {
  __sk_buff s{};
  s.mark = 0x11223344;
  s.priority = 6;
  s.ingress_ifindex = 7;
  s.ifindex = 1;
  for (int i = 0; i < 5; ++i) s.cb[i] = 0x1000u * (i + 1) + 0x55;
  s.tstamp = 0x0102030405060708ull;
  s.wire_len = len + 10;
  s.gso_segs = 3;
  s.gso_size = 1400;
  s.hwtstamp = 0x1111222233334444ull;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&s);
  return {p, p + sizeof(s)};
}

class PacketContextKernelTest : public kernel_test::KernelTest {};

// Field by field, the kernel and bpfkit read the same values. Not compared: __sk_buff.sk
// (the kernel's test run allocates a socket, bpfkit has none: 0) -- checked separately.
// cgroup_skb programs must return 0 or 1: they pass the value out through cb[0] (ctx_out).
std::string through_cb(const std::string& text) {
  std::string body = text.substr(0, text.rfind("exit"));
  return body + "*(u32 *)(r1 + 48) = r0\nr0 = 1\nexit";
}

uint32_t result_of(uint32_t type, const TestRun& r) {
  if (type != BPF_PROG_TYPE_CGROUP_SKB) return r.retval;
  uint32_t v = 0;
  if (r.ctx_out.size() >= 52) std::memcpy(&v, &r.ctx_out[48], 4);
  return v;
}

void compare_fields(uint32_t type) {
  const ProgramTypeInfo* info = core::find_program_type(type);
  ASSERT_NE(info, nullptr);
  int compared = 0;
  const bool cg = type == BPF_PROG_TYPE_CGROUP_SKB;
  const size_t ctx_out = cg ? sizeof(__sk_buff) : 0;
  for (const FieldProgram& fp : field_programs(*info)) {
    std::vector<isa::RawInsn> insns = isa::assemble(cg ? through_cb(fp.text) : fp.text);
    const std::string& own = fp.bpfkit_text.empty() ? fp.text : fp.bpfkit_text;
    std::vector<isa::RawInsn> own_insns = isa::assemble(cg ? through_cb(own) : own);
    lk::UniqueFd fd = kernel_load(type, insns);
    for (const std::vector<uint8_t>& packet : test_frames()) {
      std::vector<std::vector<uint8_t>> ctx_ins = {{}};
      if (type == BPF_PROG_TYPE_XDP) {
        ctx_ins.push_back(xdp_ctx_in(8, uint32_t(packet.size()), 1, 0));
      } else {
        uint32_t len = uint32_t(packet.size()) - (type == BPF_PROG_TYPE_SCHED_CLS ? 0 : 14);
        ctx_ins.push_back(skb_ctx_in(len));
      }
      for (const auto& ctx_in : ctx_ins) {
        TestRun k = kernel_run_fd(fd.get(), packet, ctx_in, ctx_out);
        TestRun u = bpfkit_run(type, own_insns, packet, ctx_in);
        ASSERT_EQ(k.error, "") << info->name << " " << fp.what;
        ASSERT_EQ(u.error, "") << info->name << " " << fp.what;
        EXPECT_EQ(result_of(type, u), result_of(type, k)) << info->name << " field " << fp.what << " on a " << packet.size()
                                      << "-byte frame to " << int(packet[0]) << ":..., ethertype 0x" << std::hex
                                      << (packet[12] << 8 | packet[13]) << std::dec
                                      << (ctx_in.empty() ? " without ctx_in" : " with ctx_in");
        EXPECT_EQ(u.data_out, k.data_out) << info->name << " " << fp.what;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 20);
}

TEST_F(PacketContextKernelTest, XdpFieldsMatch) { compare_fields(BPF_PROG_TYPE_XDP); }
TEST_F(PacketContextKernelTest, TcFieldsMatch) { compare_fields(BPF_PROG_TYPE_SCHED_CLS); }
TEST_F(PacketContextKernelTest, SocketFilterFieldsMatch) { compare_fields(BPF_PROG_TYPE_SOCKET_FILTER); }
TEST_F(PacketContextKernelTest, CgroupSkbFieldsMatch) { compare_fields(BPF_PROG_TYPE_CGROUP_SKB); }

TEST_F(PacketContextKernelTest, SocketIsThereInTheKernelOnly) {
  // The one known difference, pinned down so that it is noticed if it changes.
  const auto insns = isa::assemble("r0 = *(u64 *)(r1 + 168)\nif r0 == 0 goto +1\nr0 = 1\nexit");
  const auto packet = test_frames()[0];
  EXPECT_EQ(kernel_run(BPF_PROG_TYPE_SCHED_CLS, insns, packet, {}, 0).retval, 1u);
  EXPECT_EQ(bpfkit_run(BPF_PROG_TYPE_SCHED_CLS, insns, packet, {}).retval, 0u);
}

TEST_F(PacketContextKernelTest, TcWritesComeBackInCtxOut) {
  // mark, priority, cb[] written by the program; the packet's first byte too.
  const auto insns = isa::assemble(
      "r2 = 0x1234\n*(u32 *)(r1 + 8) = r2\n"
      "r2 = 9\n*(u32 *)(r1 + 32) = r2\n"
      "r2 = 0x7777\n*(u32 *)(r1 + 56) = r2\n"
      "r2 = *(u32 *)(r1 + 76)\nr3 = *(u32 *)(r1 + 80)\nr4 = r2\nr4 += 1\nif r4 > r3 goto +2\n"
      "r5 = 0xab\n*(u8 *)(r2 + 0) = r5\n"
      "r0 = 0\nexit");
  for (const auto& packet : test_frames()) {
    for (const auto& ctx_in : {std::vector<uint8_t>{}, skb_ctx_in(uint32_t(packet.size()))}) {
      TestRun k = kernel_run(BPF_PROG_TYPE_SCHED_CLS, insns, packet, ctx_in, sizeof(__sk_buff));
      TestRun u = bpfkit_run(BPF_PROG_TYPE_SCHED_CLS, insns, packet, ctx_in);
      ASSERT_EQ(k.error, "");
      EXPECT_EQ(u.data_out, k.data_out);
      ASSERT_EQ(k.ctx_out.size(), sizeof(__sk_buff));
      ASSERT_EQ(u.ctx_out.size(), sizeof(__sk_buff));
      for (size_t i = 0; i < sizeof(__sk_buff); i += 4) {
        uint32_t kv, uv;
        std::memcpy(&kv, &k.ctx_out[i], 4);
        std::memcpy(&uv, &u.ctx_out[i], 4);
        EXPECT_EQ(uv, kv) << "ctx_out offset " << i << (ctx_in.empty() ? " without ctx_in" : " with ctx_in");
      }
    }
  }
}

TEST_F(PacketContextKernelTest, XdpCtxOutAndMetadataMatch) {
  // The metadata bytes given in front of the frame come back in data_out, and
  // ctx_out gives the offsets from the metadata start.
  const auto insns = isa::assemble("r0 = 2\nexit");
  const auto packet = test_frames()[0];
  for (uint32_t meta : {0u, 4u, 32u}) {
    const auto ctx_in = xdp_ctx_in(meta, uint32_t(packet.size()), 1, 0);
    TestRun k = kernel_run(BPF_PROG_TYPE_XDP, insns, packet, ctx_in, sizeof(xdp_md));
    TestRun u = bpfkit_run(BPF_PROG_TYPE_XDP, insns, packet, ctx_in);
    ASSERT_EQ(k.error, "");
    EXPECT_EQ(u.data_out, k.data_out) << meta;
    EXPECT_EQ(u.ctx_out, k.ctx_out) << meta;
  }
}

TEST_F(PacketContextKernelTest, SkbOutputOfL3TypesHasAZeroedEthernetHeader) {
  const auto insns = isa::assemble("r0 = 1\nexit");
  for (uint32_t type : {BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_CGROUP_SKB}) {
    for (const auto& packet : test_frames()) {
      TestRun k = kernel_run(type, insns, packet, {}, 0);
      TestRun u = bpfkit_run(type, insns, packet, {});
      ASSERT_EQ(k.error, "");
      EXPECT_EQ(u.data_out, k.data_out);
      EXPECT_EQ(std::vector<uint8_t>(u.data_out.begin(), u.data_out.begin() + 14), std::vector<uint8_t>(14, 0));
    }
  }
}

TEST_F(PacketContextKernelTest, CtxInRefusedByBoth) {
  const auto insns = isa::assemble("r0 = 2\nexit");
  const auto packet = test_frames()[0];
  const uint32_t size = uint32_t(packet.size());
  struct Case {
    uint32_t type;
    std::string what;
    std::vector<uint8_t> ctx_in;
  };
  std::vector<Case> cases;
  auto xdp = [&](std::string what, auto edit) {
    auto c = xdp_ctx_in(0, size, 0, 0);
    xdp_md md;
    std::memcpy(&md, c.data(), sizeof(md));
    edit(md);
    std::memcpy(c.data(), &md, sizeof(md));
    cases.push_back({BPF_PROG_TYPE_XDP, what, c});
  };
  xdp("data_meta set", [](xdp_md& m) { m.data_meta = 4; });
  xdp("data_end past the data", [&](xdp_md& m) { m.data_end = size + 1; });
  xdp("data past data_end", [&](xdp_md& m) { m.data = 8, m.data_end = 4; });
  xdp("meta not a multiple of 4", [](xdp_md& m) { m.data = 6; });
  xdp("meta leaves no room for xdp_frame", [](xdp_md& m) { m.data = 220; });
  xdp("egress_ifindex set", [](xdp_md& m) { m.egress_ifindex = 1; });
  xdp("queue without device", [](xdp_md& m) { m.rx_queue_index = 1; });
  xdp("no such device", [](xdp_md& m) { m.ingress_ifindex = 999999; });
  xdp("queue past the device's", [](xdp_md& m) { m.ingress_ifindex = 1, m.rx_queue_index = 5; });
  {
    auto c = xdp_ctx_in(0, size, 0, 0);
    c.resize(32, 0);
    c[28] = 1;
    cases.push_back({BPF_PROG_TYPE_XDP, "nonzero bytes past xdp_md", c});
  }
  auto skb = [&](std::string what, auto edit) {
    __sk_buff s{};
    edit(s);
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&s);
    cases.push_back({BPF_PROG_TYPE_SCHED_CLS, what, {p, p + sizeof(s)}});
  };
  skb("len set", [](__sk_buff& s) { s.len = 5; });
  skb("protocol set", [](__sk_buff& s) { s.protocol = 8; });
  skb("tc_index set", [](__sk_buff& s) { s.tc_index = 1; });
  skb("hash set", [](__sk_buff& s) { s.hash = 1; });
  skb("data set", [](__sk_buff& s) { s.data = 1; });
  skb("local_port set", [](__sk_buff& s) { s.local_port = 1; });
  skb("tstamp_type set", [](__sk_buff& s) { s.tstamp_type = 1; });
  skb("wire_len below len", [](__sk_buff& s) { s.wire_len = 10; });
  skb("wire_len too big", [](__sk_buff& s) { s.wire_len = 70000; });
  skb("gso_segs too many", [](__sk_buff& s) { s.gso_segs = 70000; });
  skb("no such ifindex", [](__sk_buff& s) { s.ifindex = 999999; });
  for (const Case& c : cases) {
    TestRun k = kernel_run(c.type, insns, packet, c.ctx_in, 0);
    TestRun u = bpfkit_run(c.type, insns, packet, c.ctx_in);
    EXPECT_NE(k.error, "") << c.what << ": the kernel accepted it";
    EXPECT_NE(u.error, "") << c.what << ": bpfkit accepted it";
  }
  // And what both accept: a loopback device's queue 0, an Ethernet-sized frame.
  TestRun k = kernel_run(BPF_PROG_TYPE_XDP, insns, packet, xdp_ctx_in(0, size, 1, 0), 0);
  TestRun u = bpfkit_run(BPF_PROG_TYPE_XDP, insns, packet, xdp_ctx_in(0, size, 1, 0));
  EXPECT_EQ(k.error, "");
  EXPECT_EQ(u.error, "");
  // 216 bytes of metadata: the most the headroom gives.
  const std::vector<uint8_t> big = frame(packet.data(), 0x0800, 300);
  k = kernel_run(BPF_PROG_TYPE_XDP, insns, big, xdp_ctx_in(216, 300, 0, 0), 0);
  u = bpfkit_run(BPF_PROG_TYPE_XDP, insns, big, xdp_ctx_in(216, 300, 0, 0));
  EXPECT_EQ(k.error, "");
  EXPECT_EQ(u.error, "");
  EXPECT_EQ(u.data_out, k.data_out);
  // A known difference: a data_end short of the data makes the rest XDP fragments in the
  // kernel (6.18); bpfkit has no fragments and refuses.
  EXPECT_EQ(kernel_run(BPF_PROG_TYPE_XDP, insns, packet, xdp_ctx_in(0, size - 4, 0, 0), 0).error, "");
  EXPECT_NE(bpfkit_run(BPF_PROG_TYPE_XDP, insns, packet, xdp_ctx_in(0, size - 4, 0, 0)).error, "");
  const std::vector<uint8_t> tiny(13, 0);
  EXPECT_NE(kernel_run(BPF_PROG_TYPE_XDP, insns, tiny, {}, 0).error, "");
  EXPECT_NE(bpfkit_run(BPF_PROG_TYPE_XDP, insns, tiny, {}).error, "");
}

}  // namespace
}  // namespace bpfkit
