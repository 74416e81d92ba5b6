// HashKey: the 64-bit key hash of the cmap engine.
//
// PERSISTENT FORMAT: every entry stores HashKey(key) and the table places entries by its low
// bits (layout.h), so this function may never change for a kLayoutVersion.
//
// Construction: the key is consumed 16 bytes at a time, each block folded into the state
// with a 64x64->128-bit multiply whose halves are xored ("multiply-fold"); the last 1..16
// bytes are read with two overlapping loads, which never read past the key. The length
// enters the state twice, so keys that are prefixes of each other (or differ only in
// trailing '\0's) hash differently. The final fold spreads every input bit over the low
// bits that pick buckets. Not keyed: the engine trusts its caller's keys (no defence
// against chosen-key flooding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pmemkv {
namespace cmap {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the key hash is part of the persistent format and is defined on little-endian loads");

namespace hash_detail {

// Odd 64-bit constants with balanced bits (from the digits of pi and e).
constexpr uint64_t kK0 = 0x243F6A8885A308D3ull;
constexpr uint64_t kK1 = 0x13198A2E03707345ull;
constexpr uint64_t kK2 = 0xA4093822299F31D1ull;
constexpr uint64_t kK3 = 0xB7E151628AED2A6Bull;

inline uint64_t Fold(uint64_t a, uint64_t b) noexcept {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}
inline uint64_t Load64(const unsigned char* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t Load32(const unsigned char* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

}  // namespace hash_detail

inline uint64_t HashKey(const void* data, size_t size) noexcept {
  using namespace hash_detail;
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint64_t h = Fold(static_cast<uint64_t>(size) ^ kK0, kK1);
  size_t left = size;
  while (left > 16) {
    h = Fold(Load64(p) ^ kK2, Load64(p + 8) ^ h);
    p += 16;
    left -= 16;
  }
  uint64_t a = 0;
  uint64_t b = 0;
  if (left >= 8) {
    a = Load64(p);
    b = Load64(p + left - 8);
  } else if (left >= 4) {
    a = Load32(p);
    b = Load32(p + left - 4);
  } else if (left > 0) {
    a = (uint64_t{p[0]} << 16) | (uint64_t{p[left >> 1]} << 8) | p[left - 1];
  }
  h = Fold(a ^ kK2, b ^ h ^ kK3);
  return Fold(h ^ kK0, static_cast<uint64_t>(size) ^ kK3);
}

}  // namespace cmap
}  // namespace pmemkv
