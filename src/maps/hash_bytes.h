// A seeded 64-bit hash of a byte string for buckets and bloom filter bits
// (8 bytes at a time, multiply-xorshift mixing). Keys of 4, 8, 12 and 16 bytes
// (u32, u64, tuples, IPv6 addresses) take a fully unrolled path without library
// calls; every length hashes the same either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bpfkit::maps {

namespace hash_detail {

inline uint64_t start(size_t n, uint64_t seed) { return seed ^ (0x9E3779B97F4A7C15ull * (n + 1)); }

inline uint64_t mix_word(uint64_t h, uint64_t w) {
  h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

// `tail` holds the last n % 8 bytes (little-endian, zero-padded); `rem` is n % 8.
inline uint64_t finish(uint64_t h, uint64_t tail, size_t rem) {
  h = (h ^ tail ^ (uint64_t{rem} << 56)) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 32);
}

}  // namespace hash_detail

// hash_bytes() with the length known at compile time: the loop unrolls and the
// byte copies become plain loads.
template <size_t N>
inline uint64_t hash_fixed(const void* data, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = hash_detail::start(N, seed);
  for (size_t i = 0; i + 8 <= N; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = hash_detail::mix_word(h, w);
  }
  uint64_t tail = 0;
  if constexpr (N % 8 != 0) std::memcpy(&tail, p + N / 8 * 8, N % 8);
  return hash_detail::finish(h, tail, N % 8);
}

inline uint64_t hash_bytes(const void* data, size_t n, uint64_t seed) {
  switch (n) {
    case 4: return hash_fixed<4>(data, seed);
    case 8: return hash_fixed<8>(data, seed);
    case 12: return hash_fixed<12>(data, seed);
    case 16: return hash_fixed<16>(data, seed);
    default: break;
  }
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = hash_detail::start(n, seed);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = hash_detail::mix_word(h, w);
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  return hash_detail::finish(h, tail, n);
}

}  // namespace bpfkit::maps
