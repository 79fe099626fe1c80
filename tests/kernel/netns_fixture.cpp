#include "netns_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <vector>

#include "../support/run_command.h"

namespace bpfkit::kernel_test {
namespace {

constexpr const char* kNetnsDir = "/var/run/netns";
constexpr const char* kPrefix = "bpfkit-t";  // bpfkit-t<pid>-<n>a / b

void ip(const std::string& args) {
  const auto r = test_support::run_command("ip " + args);
  if (r.status != 0) throw std::runtime_error("`ip " + args + "` failed: " + r.output);
}

// A zombie is dead too: a killed test may wait a while for its parent to reap it.
bool process_alive(long pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const size_t end = line.rfind(") ");
  return end != std::string::npos && end + 2 < line.size() && line[end + 2] != 'Z' && line[end + 2] != 'X';
}

// Namespaces named after a test process that no longer runs (it crashed or was
// killed before its destructors ran).
void remove_stale_namespaces() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(kNetnsDir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kPrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + strlen(kPrefix), nullptr, 10);
    if (pid <= 0 || process_alive(pid)) continue;
    test_support::run_command("ip netns del " + name);
  }
}

uint16_t checksum(const uint8_t* data, size_t size) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < size; i += 2) sum += uint32_t(data[i]) << 8 | data[i + 1];
  if (size % 2) sum += uint32_t(data[size - 1]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(uint16_t(~sum));
}

in_addr parse_ipv4(const std::string& text) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) throw std::runtime_error("not an IPv4 address: " + text);
  return a;
}

}  // namespace

NetnsPair::NetnsPair() {
  static std::atomic<int> counter{0};
  const int n = counter++;
  remove_stale_namespaces();
  const std::string base = kPrefix + std::to_string(getpid()) + "-" + std::to_string(n);
  const std::string net = "10.201." + std::to_string(n % 250 + 1) + ".";
  addr_a_ = net + "1";
  addr_b_ = net + "2";
  addr_blocked_ = net + "3";
  try {
    ip("netns add " + base + "a");
    ns_a_ = base + "a";
    ip("netns add " + base + "b");
    ns_b_ = base + "b";
    ip("link add " + std::string(kIfaceA) + " netns " + ns_a_ + " type veth peer name " + kIfaceB +
       " netns " + ns_b_);
    ip("-n " + ns_a_ + " addr add " + addr_a_ + "/24 dev " + kIfaceA);
    ip("-n " + ns_a_ + " addr add " + addr_blocked_ + "/24 dev " + kIfaceA);
    ip("-n " + ns_b_ + " addr add " + addr_b_ + "/24 dev " + kIfaceB);
    for (const auto& [ns, iface] : {std::pair{ns_a_, kIfaceA}, std::pair{ns_b_, kIfaceB}}) {
      ip("-n " + ns + " link set lo up");
      ip("-n " + ns + " link set " + iface + " up");
    }
    // The carrier may take a moment: wait until a ping crosses the pair.
    for (int attempt = 0; send_pings(ns_a_, addr_a_, addr_b_, 1, std::chrono::milliseconds(100)) != 1;) {
      if (++attempt == 30) throw std::runtime_error("the veth pair between " + ns_a_ + " and " + ns_b_ +
                                                    " carries no pings after setup");
    }
  } catch (...) {
    remove();
    throw;
  }
}

NetnsPair::~NetnsPair() { remove(); }

// Deleting a namespace deletes the veth end inside it, and with it the peer.
void NetnsPair::remove() {
  for (std::string* ns : {&ns_a_, &ns_b_}) {
    if (ns->empty()) continue;
    const auto r = test_support::run_command("ip netns del " + *ns);
    if (r.status != 0) {
      std::fprintf(stderr, "warning: could not remove namespace %s: %s", ns->c_str(), r.output.c_str());
    }
    ns->clear();
  }
}

ScopedNetns::ScopedNetns(const std::string& name) {
  original_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  const int target = open((std::string(kNetnsDir) + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
  if (original_ < 0 || target < 0 || setns(target, CLONE_NEWNET) != 0) {
    const std::string why = strerror(errno);
    if (target >= 0) close(target);
    if (original_ >= 0) close(original_);
    throw std::runtime_error("cannot enter network namespace " + name + ": " + why);
  }
  close(target);
}

ScopedNetns::~ScopedNetns() {
  // Staying in the test's namespace would point every later test at the wrong network.
  if (setns(original_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "cannot return to the original network namespace: %s\n", strerror(errno));
    std::abort();
  }
  close(original_);
}

int send_pings(const std::string& ns, const std::string& source, const std::string& dest, int count,
               std::chrono::milliseconds wait) {
  int fd;
  {
    ScopedNetns in(ns);
    fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
  }
  if (fd < 0) throw std::runtime_error(std::string("raw ICMP socket: ") + strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  sockaddr_in src{}, dst{};
  src.sin_family = dst.sin_family = AF_INET;
  src.sin_addr = parse_ipv4(source);
  dst.sin_addr = parse_ipv4(dest);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
    throw std::runtime_error("bind to " + source + ": " + strerror(errno));
  }
  // Every raw ICMP socket of the namespace sees every reply: ours carry this id.
  static std::atomic<uint16_t> next_id{uint16_t(getpid() * 37)};
  const uint16_t id = next_id++;
  for (int seq = 0; seq < count; ++seq) {
    uint8_t packet[sizeof(icmphdr) + 16] = {};
    auto* h = reinterpret_cast<icmphdr*>(packet);
    h->type = ICMP_ECHO;
    h->un.echo.id = htons(id);
    h->un.echo.sequence = htons(uint16_t(seq));
    std::memcpy(packet + sizeof(icmphdr), "bpfkit-netns-ping", 16);
    h->checksum = checksum(packet, sizeof(packet));
    if (sendto(fd, packet, sizeof(packet), 0, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) < 0) {
      throw std::runtime_error("sending a ping to " + dest + ": " + strerror(errno));
    }
  }
  std::set<uint16_t> replied;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (int(replied.size()) < count) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, int(left.count())) <= 0) continue;
    uint8_t buf[1500];
    const ssize_t got = recv(fd, buf, sizeof(buf), 0);
    if (got < ssize_t(sizeof(iphdr))) continue;
    const auto* iph = reinterpret_cast<const iphdr*>(buf);
    const size_t ihl = size_t(iph->ihl) * 4;
    if (got < ssize_t(ihl + sizeof(icmphdr)) || iph->saddr != dst.sin_addr.s_addr) continue;
    const auto* h = reinterpret_cast<const icmphdr*>(buf + ihl);
    if (h->type != ICMP_ECHOREPLY || ntohs(h->un.echo.id) != id) continue;
    if (ntohs(h->un.echo.sequence) < count) replied.insert(ntohs(h->un.echo.sequence));
  }
  return int(replied.size());
}

bool have_iproute2() {
  static const bool ok = test_support::run_command("ip -V").status == 0;
  return ok;
}

void NetnsTest::SetUp() {
  KernelTest::SetUp();
  if (IsSkipped()) return;
  if (!have_iproute2()) GTEST_SKIP() << "skipped: iproute2 (`ip`) is not installed";
  net_ = std::make_unique<NetnsPair>();
}

}  // namespace bpfkit::kernel_test
