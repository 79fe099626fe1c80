#include "cli/kernel_tool.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>

#include "object/btf_json.h"
#include "target/linux/bpf_syscall.h"

namespace bpfkit::cli {

namespace lk = target::linux_kernel;
using nlohmann::json;

const std::string& Words::peek() const {
  static const std::string empty;
  return done() ? empty : words_[pos_];
}

std::string Words::next(const std::string& what) {
  if (done()) throw Error("expected " + what + " at word " + std::to_string(position()) + ", found nothing");
  return words_[pos_++];
}

uint32_t Words::next_u32(const std::string& what) {
  const size_t at = position();
  const std::string w = next(what);
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(w.c_str(), &end, 0);
  if (w.empty() || *end || errno || v > UINT32_MAX || w[0] == '-') {
    throw Error("word " + std::to_string(at) + ": '" + w + "' is not " + what);
  }
  return uint32_t(v);
}

void Words::expect_end(const std::string& command) const {
  if (!done()) {
    throw Error(command + ": unexpected '" + words_[pos_] + "' at word " + std::to_string(position()));
  }
}

void print_json(const json& j, const ToolOptions& options) {
  std::cout << (options.pretty ? j.dump(4) : j.dump()) << "\n";
}

void print_json(const nlohmann::ordered_json& j, const ToolOptions& options) {
  std::cout << (options.pretty ? j.dump(4) : j.dump()) << "\n";
}

void require_kernel_bpf() {
  if (!lk::kernel_bpf_available()) throw Error(lk::kernel_bpf_unavailable_reason());
}

namespace {

bool matches(lk::KernelObjectKind kind, int fd, const std::string& selector, const std::string& value) {
  if (kind == lk::KernelObjectKind::Program) {
    const auto info = lk::program_info(fd);
    return selector == "name" ? info.name == value : info.tag == value;
  }
  return lk::map_info(fd).name == value;
}

}  // namespace

bool selects_one(const Words& words) { return words.peek_is("id") || words.peek_is("pinned"); }

std::vector<lk::UniqueFd> select_objects(lk::KernelObjectKind kind, Words& words, bool require_one) {
  const std::string kind_name = lk::kernel_object_kind_name(kind);
  std::vector<lk::UniqueFd> out;
  if (words.done()) {
    if (require_one) throw Error("which " + kind_name + "? give id N or pinned PATH");
    for (uint32_t id : lk::kernel_object_ids(kind)) {
      try {
        out.push_back(lk::kernel_object_fd(kind, id));
      } catch (const lk::BpfError& e) {
        if (e.error_number() != ENOENT) throw;  // gone since it was listed
      }
    }
    return out;
  }
  const size_t at = words.position();
  const std::string selector = words.next("id, name, tag or pinned");
  if (selector == "id") {
    out.push_back(lk::kernel_object_fd(kind, words.next_u32("an id")));
  } else if (selector == "pinned") {
    const std::string path = words.next("a pinned path");
    lk::UniqueFd fd = lk::pinned_object(path);
    if (lk::pinned_object_kind(fd.get()) != kind) throw Error(path + " is not a pinned " + kind_name);
    out.push_back(std::move(fd));
  } else if ((selector == "name" && kind != lk::KernelObjectKind::Link) ||
             (selector == "tag" && kind == lk::KernelObjectKind::Program)) {
    const std::string value = words.next("a " + selector);
    for (uint32_t id : lk::kernel_object_ids(kind)) {
      lk::UniqueFd fd;
      try {
        fd = lk::kernel_object_fd(kind, id);
      } catch (const lk::BpfError& e) {
        if (e.error_number() == ENOENT) continue;
        throw;
      }
      if (matches(kind, fd.get(), selector, value)) out.push_back(std::move(fd));
    }
    if (out.empty()) throw Error("no " + kind_name + " has " + selector + " '" + value + "'");
    if (require_one && out.size() > 1) {
      throw Error(std::to_string(out.size()) + " " + kind_name + "s have " + selector + " '" + value +
                  "': select one by id");
    }
  } else {
    throw Error("word " + std::to_string(at) + ": expected id, " +
                std::string(kind == lk::KernelObjectKind::Link ? "" : "name, ") +
                (kind == lk::KernelObjectKind::Program ? "tag, " : "") + "or pinned; found '" + selector +
                "'");
  }
  return out;
}

std::string format_wall_time(int64_t seconds) {
  const time_t t = time_t(seconds);
  tm local;
  localtime_r(&t, &local);
  char buf[64];
  strftime(buf, sizeof buf, "%FT%T%z", &local);
  return buf;
}

std::string hex_bytes(const std::vector<uint8_t>& bytes) {
  std::string s;
  char b[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(b, sizeof b, "%02x", bytes[i]);
    if (i) s += ' ';
    s += b;
  }
  return s;
}

uint32_t kernel_possible_cpus() {
  static const uint32_t n = [] {
    // "0-3" or "0,2-5": the highest CPU number plus one.
    std::ifstream in("/sys/devices/system/cpu/possible");
    std::string s;
    if (!(in >> s)) return 1u;
    uint32_t highest = 0;
    size_t i = 0;
    while (i < s.size()) {
      size_t end = s.find_first_of(",", i);
      if (end == std::string::npos) end = s.size();
      const std::string part = s.substr(i, end - i);
      const size_t dash = part.find('-');
      highest = std::max<uint32_t>(
          highest, uint32_t(std::stoul(dash == std::string::npos ? part : part.substr(dash + 1))));
      i = end + 1;
    }
    return highest + 1;
  }();
  return n;
}

namespace {

bool parse_byte(const std::string& w, int base, uint8_t& out) {
  if (w.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(w.c_str(), &end, base);
  if (*end || errno || v < 0 || v > 255) return false;
  out = uint8_t(v);
  return true;
}

bool is_keyword(const std::string& w, const char* stop_word) {
  return w == stop_word || w == "any" || w == "exist" || w == "noexist";
}

}  // namespace

std::vector<uint8_t> parse_data(Words& words, size_t size, const object::Btf* btf, uint32_t type_id,
                                const std::string& what, const char* stop_word) {
  const bool has_btf = btf && type_id;
  const size_t at = words.position();
  if (words.peek_is("hex")) {
    words.next("hex");
    std::vector<uint8_t> out;
    while (!words.done() && !is_keyword(words.peek(), stop_word)) {
      const size_t word_at = words.position();
      std::string w = words.next("hex bytes");
      if (w.rfind("0x", 0) == 0) w = w.substr(2);
      if (w.size() % 2) w = "0" + w;
      for (size_t i = 0; i < w.size(); i += 2) {
        uint8_t b;
        if (!parse_byte(w.substr(i, 2), 16, b)) {
          throw Error(what + ": word " + std::to_string(word_at) + ": '" + w + "' is not hex bytes");
        }
        out.push_back(b);
      }
    }
    if (out.size() != size) {
      throw Error(what + ": expected " + std::to_string(size) + " bytes, got " + std::to_string(out.size()));
    }
    return out;
  }
  if (words.peek_is("json")) {
    words.next("json");
    const std::string text = words.next(what + " as JSON");
    json j;
    try {
      j = json::parse(text);
    } catch (const json::exception& e) {
      throw Error(what + ": word " + std::to_string(at + 1) + ": not JSON: " + e.what());
    }
    if (has_btf) {
      std::vector<uint8_t> out = object::json_to_btf(*btf, type_id, j, what);
      if (out.size() != size) throw Error(what + ": the BTF type does not have the map's size");
      return out;
    }
    return object::json_to_bytes(j, size, what);
  }
  // Numbers, one per byte; a single word that is not one of them is JSON (BTF maps).
  std::vector<uint8_t> out;
  std::vector<std::string> taken;
  while (!words.done() && !is_keyword(words.peek(), stop_word)) {
    uint8_t b;
    const std::string& w = words.peek();
    if (!parse_byte(w, 0, b)) break;
    taken.push_back(words.next("a byte"));
    out.push_back(b);
  }
  if (out.size() == size && size > 0) return out;
  if (has_btf && taken.size() <= 1) {
    std::string text = taken.empty() ? words.next(what) : taken[0];
    try {
      std::vector<uint8_t> bytes = object::json_to_btf(*btf, type_id, json::parse(text), what);
      if (bytes.size() == size) return bytes;
    } catch (const json::exception& e) {
      throw Error(what + ": word " + std::to_string(at) + ": '" + text + "' is neither " +
                  std::to_string(size) + " bytes nor JSON");
    }
  }
  if (!words.done() && !is_keyword(words.peek(), stop_word) && out.size() < size) {
    throw Error(what + ": word " + std::to_string(words.position()) + ": '" + words.peek() +
                "' is not a byte (0..255; or use `hex 0a 00`)");
  }
  throw Error(what + ": expected " + std::to_string(size) + " bytes, got " + std::to_string(out.size()));
}

}  // namespace bpfkit::cli
