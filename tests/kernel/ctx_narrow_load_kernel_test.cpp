// Narrow loads inside __sk_buff fields that the kernel backs with a narrower field
// (protocol, pkt_type, gso_segs, ...: core::CtxField::kernel_size): the same object
// under BPF_PROG_TEST_RUN in the kernel and on the userspace target (which rewrites
// those loads when it loads the object) must return the same values.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <cstring>
#include <string>
#include <vector>

#include "../support/compile_bpf.h"
#include "core/program_type.h"
#include "kernel_test_util.h"
#include "object/bpf_object.h"
#include "target/target.h"

namespace bpfkit {
namespace {

struct NarrowLoad {
  std::string name;   // the program's
  std::string field;  // "protocol" (or "" for a program of another shape)
  uint32_t off = 0, size = 0;
};

// One program per narrow load: u8 at +0..+3 and u16 at +0 and +2 of every field with a
// narrower kernel field. Inline asm keeps clang from widening or merging the loads.
std::string source_for(uint32_t prog_type, const char* section, std::vector<NarrowLoad>* loads) {
  const core::ProgramTypeInfo* info = core::find_program_type(prog_type);
  std::string src = "#include <linux/bpf.h>\n#include <stddef.h>\n#include <bpf/bpf_helpers.h>\n";
  for (const core::CtxField& f : info->ctx_fields) {
    if (f.kernel_size == 0) continue;
    for (auto [size, off] : {std::pair{1u, 0u}, std::pair{1u, 1u}, std::pair{1u, 2u}, std::pair{1u, 3u},
                              std::pair{2u, 0u}, std::pair{2u, 2u}}) {
      const std::string name = f.name + "_u" + std::to_string(size * 8) + "_" + std::to_string(off);
      loads->push_back({name, f.name, off, size});
      src += "SEC(\"" + std::string(section) + "\") int " + name + "(struct __sk_buff *skb) {\n" +
             "  unsigned long long v;\n  asm volatile(\"%0 = *(u" + std::to_string(size * 8) +
             " *)(%1 + %2)\" : \"=r\"(v) : \"r\"(skb), \"i\"(offsetof(struct __sk_buff, " + f.name + ") + " +
             std::to_string(off) + "));\n  return v;\n}\n";
    }
  }
  // The context kept in a callee-saved register across a helper call, and spilled to the stack.
  loads->push_back({"after_call", "", 0, 0});
  src += "SEC(\"" + std::string(section) + R"C(") int after_call(struct __sk_buff *skb) {
  unsigned long long r = bpf_get_prandom_u32(), v;
  asm volatile("%0 = *(u16 *)(%1 + %2)" : "=r"(v) : "r"(skb), "i"(offsetof(struct __sk_buff, protocol) + 2));
  return v + (r & 0);
}
)C";
  loads->push_back({"spilled", "", 0, 0});
  src += "SEC(\"" + std::string(section) + R"C(") int spilled(struct __sk_buff *skb) {
  unsigned long long v;
  asm volatile("*(u64 *)(r10 - 8) = %1\n\t%1 = 0\n\t%0 = *(u64 *)(r10 - 8)\n\t%0 = *(u8 *)(%0 + %2)"
               : "=&r"(v), "+r"(skb) : "i"(offsetof(struct __sk_buff, pkt_type) + 3) : "memory");
  return v;
}
char LICENSE[] SEC("license") = "GPL";
)C";
  return src;
}

std::vector<uint8_t> frame(const uint8_t dst[6], uint16_t ethertype, size_t size) {
  std::vector<uint8_t> f(size, 0);
  std::memcpy(f.data(), dst, 6);
  const uint8_t src[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
  std::memcpy(f.data() + 6, src, 6);
  f[12] = uint8_t(ethertype >> 8);
  f[13] = uint8_t(ethertype);
  for (size_t i = 14; i < size; ++i) f[i] = uint8_t(i * 7);
  if (ethertype == 0x0800) f[14] = 0x45, f[23] = 17;
  if (ethertype == 0x86dd) f[14] = 0x60, f[20] = 17;
  return f;
}

std::vector<uint8_t> skb_ctx_in(uint32_t len) {
  __sk_buff s{};
  s.wire_len = len + 10;
  s.gso_segs = 0x0203;
  s.gso_size = 1400;
  const auto* p = reinterpret_cast<const uint8_t*>(&s);
  return {p, p + sizeof(s)};
}

class CtxNarrowLoadKernelTest : public kernel_test::KernelTest {};

void compare(uint32_t prog_type, const char* section) {
  BPFKIT_REQUIRE_BPF_CLANG();
  std::vector<NarrowLoad> loads;
  const std::string path = test_support::compile_bpf(source_for(prog_type, section, &loads));
  ASSERT_FALSE(path.empty());
  auto object = std::make_shared<object::BpfObject>(object::BpfObject::open(path));
  auto user = target::make_user_target()->load(object);
  auto kernel = target::make_linux_target()->load(object);
  const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  const uint8_t mcast[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
  const uint8_t other[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
  const std::vector<std::vector<uint8_t>> frames = {frame(bcast, 0x0806, 60), frame(mcast, 0x86dd, 200),
                                                    frame(other, 0x0800, 64)};
  int nonzero_at_offset = 0;  // loads away from the field's start that read the field's value
  for (const NarrowLoad& l : loads) {
    target::ProgramHandle* up = user->find_program(l.name);
    target::ProgramHandle* kp = kernel->find_program(l.name);
    ASSERT_NE(up, nullptr) << l.name;
    ASSERT_NE(kp, nullptr) << l.name;
    for (const auto& packet : frames) {
      const uint32_t len = uint32_t(packet.size()) - (prog_type == BPF_PROG_TYPE_SCHED_CLS ? 0 : 14);
      for (const auto& ctx_in : {std::vector<uint8_t>{}, skb_ctx_in(len)}) {
        target::TestRunRequest req;
        req.data_in = packet;
        req.ctx_in = ctx_in;
        const uint32_t k = kp->test_run(req).retval;
        const uint32_t u = up->test_run(req).retval;
        EXPECT_EQ(u, k) << l.name << " on a " << packet.size() << "-byte frame, ethertype 0x" << std::hex
                        << (packet[12] << 8 | packet[13]) << std::dec << (ctx_in.empty() ? "" : " with ctx_in");
        if (l.off != 0 && k != 0) ++nonzero_at_offset;
      }
    }
  }
  // The quirk is exercised: some loads inside a field read the whole field in the kernel.
  EXPECT_GT(nonzero_at_offset, 5);
}

TEST_F(CtxNarrowLoadKernelTest, TcNarrowLoadsMatch) { compare(BPF_PROG_TYPE_SCHED_CLS, "tc"); }
TEST_F(CtxNarrowLoadKernelTest, SocketFilterNarrowLoadsMatch) { compare(BPF_PROG_TYPE_SOCKET_FILTER, "socket"); }

}  // namespace
}  // namespace bpfkit
