// Two network namespaces joined by a veth pair, for tests that send real packets
// through attached programs without touching the host's interfaces:
//
//   namespace a                                namespace b
//   veth-a  10.201.N.1/24, 10.201.N.3/24  <->  veth-b  10.201.N.2/24
//
// 10.201.N.3 is the "blocked" source the tests' programs drop. Everything is
// removed when the fixture is destroyed, also after a failed test; namespaces left
// by a test process that died are removed by the next one.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "kernel_test_util.h"

namespace bpfkit::kernel_test {

class NetnsPair {
 public:
  // Throws std::runtime_error with `ip`'s output when setup fails, after removing
  // whatever it had created.
  NetnsPair();
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const std::string& ns_a() const { return ns_a_; }
  const std::string& ns_b() const { return ns_b_; }
  static constexpr const char* kIfaceA = "veth-a";
  static constexpr const char* kIfaceB = "veth-b";
  const std::string& addr_a() const { return addr_a_; }              // on veth-a
  const std::string& addr_b() const { return addr_b_; }              // on veth-b
  const std::string& addr_blocked() const { return addr_blocked_; }  // on veth-a too

 private:
  void remove();

  std::string ns_a_, ns_b_;
  std::string addr_a_, addr_b_, addr_blocked_;
};

// This thread inside network namespace `name` (a name under /var/run/netns) until
// destroyed. Sockets made meanwhile stay in that namespace after it is left, and
// interface names and indexes resolve there (as BPF_LINK_CREATE resolves them).
class ScopedNetns {
 public:
  explicit ScopedNetns(const std::string& name);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

 private:
  int original_ = -1;
};

// Sends `count` ICMP echo requests (pings) from `source` to `dest` through a raw
// socket in namespace `ns` and returns how many distinct replies came back, waiting
// at most `wait` after the last request.
int send_pings(const std::string& ns, const std::string& source, const std::string& dest, int count,
               std::chrono::milliseconds wait = std::chrono::milliseconds(300));

// Whether `ip` (iproute2) is installed; NetnsPair needs it.
bool have_iproute2();

// A kernel test with a fresh NetnsPair in net(); skips when the kernel cannot run
// BPF or iproute2 is missing.
class NetnsTest : public KernelTest {
 protected:
  void SetUp() override;
  void TearDown() override { net_.reset(); }
  NetnsPair& net() { return *net_; }

 private:
  std::unique_ptr<NetnsPair> net_;
};

}  // namespace bpfkit::kernel_test
