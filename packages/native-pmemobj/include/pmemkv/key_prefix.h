// Key prefixes as integers, for DRAM indexes that compare keys without reading them.
//
// KeyPrefix: the first 8 bytes of a key as a big-endian integer, zero-padded. KeyPrefix16: the
// first 16 bytes as two such words (bytes 0..7, bytes 8..15), for keys that share their first 8
// bytes (decimal or zero-padded ids, "user:..."). Where two prefixes differ, their integer order
// is the keys' bytewise order (a shorter key pads with zeros, and a key that is a proper prefix
// of another sorts first); equal prefixes say nothing. Bytewise order only: an engine with
// another comparator does not use them to order keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace pmemkv {

inline uint64_t KeyPrefix(const char* data, size_t size) noexcept {
  uint64_t v = 0;
  if (size >= 8) {
    std::memcpy(&v, data, 8);
  } else if (size > 0) {
    std::memcpy(&v, data, size);
  }
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}
inline uint64_t KeyPrefix(std::string_view key) noexcept { return KeyPrefix(key.data(), key.size()); }

struct KeyPrefix16 {
  uint64_t hi = 0, lo = 0;
  bool operator==(const KeyPrefix16& o) const noexcept { return hi == o.hi && lo == o.lo; }
  bool operator!=(const KeyPrefix16& o) const noexcept { return !(*this == o); }
  bool operator<(const KeyPrefix16& o) const noexcept { return hi < o.hi || (hi == o.hi && lo < o.lo); }
};
// `hi` is KeyPrefix(key), when the caller has it already.
inline KeyPrefix16 Prefix16(std::string_view key, uint64_t hi) noexcept {
  return KeyPrefix16{hi, key.size() > 8 ? KeyPrefix(key.data() + 8, key.size() - 8) : 0};
}
inline KeyPrefix16 Prefix16(std::string_view key) noexcept { return Prefix16(key, KeyPrefix(key)); }

// Bytewise order of (pa, a) and (pb, b), where pa and pb are the keys' KeyPrefix.
inline int CompareKeys(uint64_t pa, std::string_view a, uint64_t pb, std::string_view b) noexcept {
  if (pa != pb) return pa < pb ? -1 : 1;
  return a.compare(b);
}
// The same with the keys' Prefix16.
inline int CompareKeys(const KeyPrefix16& pa, std::string_view a, const KeyPrefix16& pb, std::string_view b) noexcept {
  if (pa.hi != pb.hi) return pa.hi < pb.hi ? -1 : 1;
  if (pa.lo != pb.lo) return pa.lo < pb.lo ? -1 : 1;
  return a.compare(b);
}

}  // namespace pmemkv
