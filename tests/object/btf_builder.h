// Test helper: assembles raw BTF blobs type by type, including malformed ones.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace bpfkit::object::testing {

class BtfBuilder {
 public:
  BtfBuilder() { strings_.push_back(0); }
  uint32_t str(const std::string& s) {
    if (s.empty()) return 0;
    auto off = uint32_t(strings_.size());
    strings_.insert(strings_.end(), s.begin(), s.end());
    strings_.push_back(0);
    return off;
  }
  // Starts a type record; returns its id.
  uint32_t type(uint32_t name_off, uint32_t kind, uint32_t vlen, bool kflag, uint32_t size_type) {
    u32(name_off);
    u32((kflag ? 1u << 31 : 0) | (kind << 24) | vlen);
    u32(size_type);
    return ++count_;
  }
  void u32(uint32_t v) {
    uint8_t b[4];
    std::memcpy(b, &v, 4);
    types_.insert(types_.end(), b, b + 4);
  }
  uint32_t int_type(const std::string& name, uint32_t size, uint32_t bits, uint32_t enc) {
    uint32_t id = type(str(name), 1, 0, false, size);
    u32((enc << 24) | bits);
    return id;
  }
  uint32_t ref(uint32_t kind, uint32_t target, const std::string& name = "") {
    return type(str(name), kind, 0, false, target);
  }
  std::vector<uint8_t> build() const {
    std::vector<uint8_t> out(24, 0);
    auto put = [&](size_t at, uint32_t v) { std::memcpy(out.data() + at, &v, 4); };
    out[0] = 0x9f;
    out[1] = 0xeb;
    out[2] = 1;
    put(4, 24);
    put(8, 0);
    put(12, uint32_t(types_.size()));
    put(16, uint32_t(types_.size()));
    put(20, uint32_t(strings_.size()));
    out.insert(out.end(), types_.begin(), types_.end());
    out.insert(out.end(), strings_.begin(), strings_.end());
    return out;
  }
  uint32_t count() const { return count_; }

  std::vector<uint8_t> strings_;
  std::vector<uint8_t> types_;
  uint32_t count_ = 0;
};

}  // namespace bpfkit::object::testing
