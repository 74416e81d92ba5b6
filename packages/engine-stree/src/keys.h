// Key helpers of stree: the 1-byte fingerprint of leaf slots and the 16-byte inline form of
// separators that lets a search inside an inner node decide most comparisons without leaving
// the node. Pure functions; no pool access.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "layout.h"

namespace stree {

using Slice = std::string_view;

// A 1-byte hash of the key, never 0 (0 marks a free slot). Persistent format: the function
// decides what fp[] holds in existing pools; never change it.
inline uint8_t Fingerprint(Slice key) noexcept {
  uint64_t h = 0x9E37'79B9'7F4A'7C15ULL ^ key.size();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(key.data());
  size_t n = key.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xFF51'AFD7'ED55'8CCDULL;
    h ^= h >> 32;
  }
  uint64_t tail = 0;
  for (size_t i = 0; i < n; i++) tail |= uint64_t{p[i]} << (8 * i);
  h = (h ^ tail) * 0xC4CE'B9FE'1A85'EC53ULL;
  h ^= h >> 29;
  const uint8_t f = static_cast<uint8_t>(h >> 56);
  return f == 0 ? 1 : f;
}

// Bytes [from, from + 8) of `key`, big-endian, zero-padded past its end.
inline uint64_t BigEndianWord(Slice key, size_t from) noexcept {
  unsigned char b[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (key.size() > from) std::memcpy(b, key.data() + from, key.size() - from < 8 ? key.size() - from : 8);
  uint64_t w;
  std::memcpy(&w, b, 8);
  return __builtin_bswap64(w);
}

inline InnerKey InlineOf(Slice key) noexcept { return InnerKey{BigEndianWord(key, 0), BigEndianWord(key, 8)}; }

// The first min(len, 16) bytes of a separator, back from its inline form into `out`.
inline Slice InlineBytes(const InnerKey& k, uint32_t len, char out[kInlineKey]) noexcept {
  const uint64_t w[2] = {__builtin_bswap64(k.hi), __builtin_bswap64(k.lo)};
  std::memcpy(out, w, kInlineKey);
  return Slice(out, len < kInlineKey ? len : kInlineKey);
}

// A key being searched for, with its inline form computed once per operation.
struct SearchKey {
  explicit SearchKey(Slice k) noexcept : key(k), inl(InlineOf(k)) {}
  Slice key;
  InnerKey inl;
};

// The bytewise order of `a` and a separator `b` of `b_len` bytes from their inline forms:
// <0, 0, >0, or kUndecided when both are longer than 16 bytes and agree on those (then only
// the full separator decides). Zero padding keeps the order: if the padded forms differ, the
// first difference is a real byte or a key ending (which sorts first); if they agree and a
// key is at most 16 bytes long, it is a prefix of the other, so the shorter sorts first.
inline constexpr int kUndecided = 2;
inline int InlineBytewise(const SearchKey& a, const InnerKey& b, uint32_t b_len) noexcept {
  if (a.inl.hi != b.hi) return a.inl.hi < b.hi ? -1 : 1;
  if (a.inl.lo != b.lo) return a.inl.lo < b.lo ? -1 : 1;
  if (a.key.size() <= kInlineKey || b_len <= kInlineKey)
    return a.key.size() < b_len ? -1 : a.key.size() > b_len ? 1 : 0;
  return kUndecided;
}

}  // namespace stree
