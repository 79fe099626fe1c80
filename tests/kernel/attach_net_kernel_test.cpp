// Packet programs attached to real hooks: XDP and tcx on a veth pair between two
// network namespaces drop pings from a blocked address and pass the others, with
// counters that match the pings sent; a socket filter drops the UDP datagrams it
// should; destroying a link lets traffic through again; failures give a sentence.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../support/compile_bpf.h"
#include "netns_fixture.h"
#include "object/bpf_object.h"
#include "target/linux/linux_target.h"
#include "target/linux/net_attach.h"
#include "target/target.h"

namespace bpfkit::kernel_test {
namespace {

namespace lk = target::linux_kernel;

// One object, three hooks. The packet filters count ICMP echo requests per source
// and per verdict; the socket filter drops UDP datagrams whose payload starts 'D'.
constexpr const char* kFilters = R"(
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// <linux/icmp.h> pulls in libc's socket headers, which do not build for BPF.
struct icmp_echo {
  __u8 type, code;
  __u16 checksum, id, sequence;
};
#define ICMP_ECHO 8

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16);
  __type(key, __u32);
  __type(value, __u8);
} blocked SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 64);
  __type(key, __u32);
  __type(value, __u64);
} echo_requests SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);  // 0: passed, 1: dropped
  __type(key, __u32);
  __type(value, __u64);
} verdicts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 2);  // 0: passed, 1: dropped
  __type(key, __u32);
  __type(value, __u64);
} datagrams SEC(".maps");

static __always_inline void add(void *map, __u32 key) {
  __u64 *n = bpf_map_lookup_elem(map, &key);
  if (n) __sync_fetch_and_add(n, 1);
}

// 1: drop. Only ICMP echo requests from blocked sources are dropped (and counted).
static __always_inline int judge(void *data, void *data_end) {
  struct ethhdr *eth = data;
  if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP)) return 0;
  struct iphdr *ip = (void *)(eth + 1);
  if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_ICMP) return 0;
  struct icmp_echo *icmp = (void *)(ip + 1);
  if ((void *)(icmp + 1) > data_end || icmp->type != ICMP_ECHO) return 0;
  __u32 saddr = ip->saddr;
  __u64 one = 1;
  __u64 *seen = bpf_map_lookup_elem(&echo_requests, &saddr);
  if (seen) {
    __sync_fetch_and_add(seen, 1);
  } else if (bpf_map_update_elem(&echo_requests, &saddr, &one, BPF_NOEXIST) != 0) {
    seen = bpf_map_lookup_elem(&echo_requests, &saddr);  // another CPU created it first
    if (seen) __sync_fetch_and_add(seen, 1);
  }
  int drop = bpf_map_lookup_elem(&blocked, &saddr) != 0;
  add(&verdicts, drop);
  return drop;
}

SEC("xdp")
int xdp_filter(struct xdp_md *ctx) {
  return judge((void *)(long)ctx->data, (void *)(long)ctx->data_end) ? XDP_DROP : XDP_PASS;
}

SEC("tcx/ingress")
int tc_filter(struct __sk_buff *skb) {
  return judge((void *)(long)skb->data, (void *)(long)skb->data_end) ? TC_ACT_SHOT : TC_ACT_OK;
}

// A UDP socket's filter sees the datagram from its UDP header on.
SEC("socket")
int udp_filter(struct __sk_buff *skb) {
  __u8 first = 0;
  if (bpf_skb_load_bytes(skb, 8, &first, 1) < 0) return skb->len;
  add(&datagrams, first == 'D');
  return first == 'D' ? 0 : skb->len;
}

char LICENSE[] SEC("license") = "GPL";
)";

constexpr int kPings = 20;

struct Filters {
  std::unique_ptr<target::LoadedObject> loaded;
  int xdp = -1, tc = -1, sock = -1;

  // Fails the test (and returns false) when compiling or loading fails.
  bool load() {
    const std::string path = test_support::compile_bpf(kFilters);
    if (path.empty()) return false;
    auto object = std::make_shared<object::BpfObject>(object::BpfObject::open(path));
    loaded = target::make_linux_target()->load(object);
    auto fd = [&](const char* name) {
      const target::ProgramHandle* p = loaded->find_program(name);
      return p ? lk::program_fd(*p) : -1;
    };
    xdp = fd("xdp_filter");
    tc = fd("tc_filter");
    sock = fd("udp_filter");
    return xdp >= 0 && tc >= 0 && sock >= 0;
  }
  target::MapHandle& map(const char* name) { return *loaded->find_map(name); }

  void block(const std::string& addr) {
    const uint32_t key = inet_addr(addr.c_str());
    const uint8_t one = 1;
    EXPECT_EQ(map("blocked").update(&key, &one, BPF_ANY), 0);
  }
  uint64_t echo_requests(const std::string& addr) {
    const uint32_t key = inet_addr(addr.c_str());
    uint64_t n = 0;
    return map("echo_requests").lookup(&key, &n) == 0 ? n : 0;
  }
  uint64_t count(const char* map_name, uint32_t key) {
    uint64_t n = 0;
    EXPECT_EQ(map(map_name).lookup(&key, &n), 0);
    return n;
  }
};

#define LOAD_FILTERS(f)          \
  BPFKIT_REQUIRE_BPF_CLANG();    \
  Filters f;                     \
  ASSERT_TRUE(f.load());

std::string attach_error(const std::function<void()>& attach) {
  try {
    attach();
  } catch (const target::TargetError& e) {
    return e.what();
  }
  return "(no error)";
}

class AttachNetTest : public NetnsTest {
 protected:
  // With a filter attached on the path from a to b: pings from the blocked address
  // die, the others are answered, and every echo request is counted once. `before`
  // is what the counters held already.
  void expect_filtering(Filters& f, uint64_t before) {
    EXPECT_EQ(send_pings(net().ns_a(), net().addr_a(), net().addr_b(), kPings), kPings);
    EXPECT_EQ(send_pings(net().ns_a(), net().addr_blocked(), net().addr_b(), kPings), 0);
    EXPECT_EQ(f.echo_requests(net().addr_a()), before + kPings);
    EXPECT_EQ(f.echo_requests(net().addr_blocked()), before + kPings);
    EXPECT_EQ(f.count("verdicts", 0), before + kPings);
    EXPECT_EQ(f.count("verdicts", 1), before + kPings);
  }
  // With the filter gone: everything is answered and nothing more is counted.
  void expect_no_filtering(Filters& f, uint64_t before) {
    EXPECT_EQ(send_pings(net().ns_a(), net().addr_blocked(), net().addr_b(), kPings), kPings);
    EXPECT_EQ(f.count("verdicts", 1), before);
    EXPECT_EQ(f.echo_requests(net().addr_blocked()), before);
  }
};

TEST_F(AttachNetTest, XdpDropsPingsFromTheBlockedAddressInBothModes) {
  LOAD_FILTERS(f);
  f.block(net().addr_blocked());
  lk::LinkPtr link;
  {
    ScopedNetns in(net().ns_b());
    link = lk::attach_xdp(f.xdp, lk::interface_index(NetnsPair::kIfaceB));  // Auto: veth has native XDP
  }
  EXPECT_EQ(link->describe(), "xdp on veth-b (native)");
  EXPECT_GE(link->link_fd(), 0);
  expect_filtering(f, 0);
  link.reset();
  expect_no_filtering(f, kPings);

  {
    ScopedNetns in(net().ns_b());
    link = lk::attach_xdp(f.xdp, lk::interface_index(NetnsPair::kIfaceB), lk::XdpMode::Generic);
  }
  EXPECT_EQ(link->describe(), "xdp on veth-b (generic)");
  expect_filtering(f, kPings);
  link.reset();
  expect_no_filtering(f, 2 * kPings);
}

TEST_F(AttachNetTest, TcxIngressAndEgressDropPingsFromTheBlockedAddress) {
  LOAD_FILTERS(f);
  f.block(net().addr_blocked());
  lk::LinkPtr link;
  {
    ScopedNetns in(net().ns_b());
    link = lk::attach_tc(f.tc, lk::interface_index(NetnsPair::kIfaceB), lk::TcDirection::Ingress);
  }
  EXPECT_EQ(link->describe(), "tcx ingress on veth-b");
  EXPECT_GE(link->link_fd(), 0);
  expect_filtering(f, 0);
  link.reset();
  expect_no_filtering(f, kPings);

  // Egress on the sender's side: the requests die before they leave namespace a.
  {
    ScopedNetns in(net().ns_a());
    link = lk::attach_tc(f.tc, lk::interface_index(NetnsPair::kIfaceA), lk::TcDirection::Egress);
  }
  EXPECT_EQ(link->describe(), "tcx egress on veth-a");
  expect_filtering(f, kPings);
  link.reset();
  expect_no_filtering(f, 2 * kPings);
}

// A UDP socket on loopback, and a sender; returns the payloads that arrive.
class UdpPair {
 public:
  UdpPair() {
    rx_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    tx_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    addr_.sin_family = AF_INET;
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr_);
    if (rx_ < 0 || tx_ < 0 || bind(rx_, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)) != 0 ||
        getsockname(rx_, reinterpret_cast<sockaddr*>(&addr_), &len) != 0) {
      ADD_FAILURE() << "UDP sockets on loopback: " << strerror(errno);
    }
  }
  ~UdpPair() {
    close(rx_);
    close(tx_);
  }
  int receiver() const { return rx_; }
  void send(const std::string& payload) {
    const auto* to = reinterpret_cast<const sockaddr*>(&addr_);
    EXPECT_EQ(sendto(tx_, payload.data(), payload.size(), 0, to, sizeof(addr_)), ssize_t(payload.size()));
  }
  // Everything queued on the receiver, waiting briefly for the first datagram.
  std::vector<std::string> drain() {
    std::vector<std::string> got;
    pollfd p{rx_, POLLIN, 0};
    poll(&p, 1, 100);
    char buf[256];
    for (ssize_t n; (n = recv(rx_, buf, sizeof(buf), MSG_DONTWAIT)) >= 0;) got.emplace_back(buf, size_t(n));
    return got;
  }

 private:
  int rx_ = -1, tx_ = -1;
  sockaddr_in addr_{};
};

class AttachSocketTest : public KernelTest {};

TEST_F(AttachSocketTest, SocketFilterDropsTheDatagramsItShouldUntilDetached) {
  LOAD_FILTERS(f);
  UdpPair udp;
  lk::LinkPtr link = lk::attach_socket_filter(f.sock, udp.receiver());
  EXPECT_EQ(link->describe(), "socket filter on fd " + std::to_string(udp.receiver()));
  EXPECT_EQ(link->link_fd(), -1);
  std::vector<std::string> passed;
  for (int i = 0; i < 10; ++i) {
    udp.send("Drop " + std::to_string(i));
    udp.send("keep " + std::to_string(i));
    passed.push_back("keep " + std::to_string(i));
  }
  EXPECT_EQ(udp.drain(), passed);
  EXPECT_EQ(f.count("datagrams", 0), 10u);
  EXPECT_EQ(f.count("datagrams", 1), 10u);

  link.reset();
  udp.send("Drop again");
  EXPECT_EQ(udp.drain(), std::vector<std::string>{"Drop again"});
  EXPECT_EQ(f.count("datagrams", 1), 10u);
}

TEST_F(AttachNetTest, FailuresSayWhatWentWrongInOneSentence) {
  LOAD_FILTERS(f);
  EXPECT_EQ(attach_error([] { lk::interface_index("bpfkit-none0"); }),
            "no network interface named 'bpfkit-none0'");
  EXPECT_EQ(attach_error([] { lk::interface_index(""); }), "no network interface named ''");

  ScopedNetns in(net().ns_b());
  const int veth = lk::interface_index(NetnsPair::kIfaceB);
  // veth-b exists only inside namespace b.
  EXPECT_EQ(attach_error([&] { lk::attach_xdp(f.xdp, 0x7ffffff0); }),
            "no network interface with index 2147483632 in this network namespace");

  EXPECT_EQ(attach_error([&] { lk::attach_xdp(f.sock, veth); }),
            "XDP on 'veth-b': program 'udp_filter' has type socket filter; only XDP programs attach here");
  EXPECT_EQ(attach_error([&] { lk::attach_tc(f.xdp, veth, lk::TcDirection::Egress); }),
            "tc egress on 'veth-b': program 'xdp_filter' has type XDP; only tc classifier programs attach "
            "here");
  EXPECT_EQ(attach_error([&] { lk::attach_socket_filter(f.tc, 0); }),
            "socket filter on fd 0: program 'tc_filter' has type tc classifier; only socket filter programs "
            "attach here");
  EXPECT_NE(attach_error([&] { lk::attach_xdp(-1, veth); })
                .find("XDP on 'veth-b': fd -1 is not a loaded BPF program"),
            std::string::npos);

  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  EXPECT_NE(attach_error([&] { lk::attach_socket_filter(f.sock, pipe_fds[0]); })
                .find("socket filter on fd " + std::to_string(pipe_fds[0]) + ": the fd is not a socket"),
            std::string::npos);
  close(pipe_fds[0]);
  close(pipe_fds[1]);

  // Loopback has no native XDP: asking for it says so, Auto falls back to generic.
  const int lo = lk::interface_index("lo");
  const std::string native_lo = attach_error([&] { lk::attach_xdp(f.xdp, lo, lk::XdpMode::Native); });
  EXPECT_EQ(native_lo.rfind("XDP on 'lo' (native): the interface's driver does not support this mode", 0), 0u)
      << native_lo;
  EXPECT_EQ(lk::attach_xdp(f.xdp, lo)->describe(), "xdp on lo (generic)");

  // One XDP program per interface: a second one, in either mode, is refused.
  lk::LinkPtr first = lk::attach_xdp(f.xdp, veth, lk::XdpMode::Native);
  for (lk::XdpMode mode : {lk::XdpMode::Native, lk::XdpMode::Generic, lk::XdpMode::Auto}) {
    const std::string error = attach_error([&] { lk::attach_xdp(f.xdp, veth, mode); });
    EXPECT_NE(error.find("XDP on 'veth-b'"), std::string::npos) << error;
    EXPECT_NE(error.find("an XDP program is already attached to this interface"), std::string::npos) << error;
  }
}

// The fixture leaves nothing behind: its namespaces (and the veth pair inside them) go
// with it.
TEST_F(AttachSocketTest, NetnsPairRemovesItsNamespaces) {
  if (!have_iproute2()) GTEST_SKIP() << "skipped: iproute2 (`ip`) is not installed";
  std::string a, b;
  {
    NetnsPair pair;
    a = "/var/run/netns/" + pair.ns_a();
    b = "/var/run/netns/" + pair.ns_b();
    EXPECT_TRUE(std::filesystem::exists(a));
    EXPECT_TRUE(std::filesystem::exists(b));
    EXPECT_NE(pair.ns_a().find(std::to_string(getpid())), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(a));
  EXPECT_FALSE(std::filesystem::exists(b));
}

}  // namespace
}  // namespace bpfkit::kernel_test
