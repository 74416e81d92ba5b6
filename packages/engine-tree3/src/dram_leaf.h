// LeafNode: the DRAM cache of one persistent leaf. A probe, a split plan and a walk read only
// this cache until the final read of a KVSlot, so they touch persistent memory once per hit.
//
// Per leaf: the 48 fingerprints (a copy of Leaf::hashes), the first 8 bytes of each live key
// (big-endian, as an integer: KeyPrefix), and a pointer to each live KVSlot. Why prefixes and
// not key copies: recovery fills the cache with one 8-byte read per key and no allocation per
// key (1 M keys reopen in well under a second), the cache is 17 bytes per slot whatever the key
// length, and most comparisons (in-leaf sorting, split planning, range bounds) are decided by
// the prefixes alone; equal prefixes fall back to the full key in the KVSlot.
//
// Invariant: for every slot i, hashes[i] == pleaf->hashes[i]; when hashes[i] != 0,
// slot[i].kv is the KVSlot at pleaf->slots[i] and slot[i].prefix is KeyPrefix of its key;
// count is the number of live slots. The owner changes a LeafNode only after the transaction
// that changed `pleaf` commits.
//
// Not thread-safe: the engine is called by one thread at a time.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "layout.h"

namespace tree3 {

using Slice = std::string_view;

// The first 8 bytes of a key as a big-endian integer, zero-padded. When two prefixes differ,
// their integer order is the keys' bytewise order (a shorter key pads with zeros, and a key
// that is a proper prefix of another sorts first); equal prefixes say nothing.
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
inline uint64_t KeyPrefix(Slice key) noexcept { return KeyPrefix(key.data(), key.size()); }

// Bytewise order of (pa, a) and (pb, b), where pa and pb are the keys' KeyPrefix.
inline int CompareKeys(uint64_t pa, Slice a, uint64_t pb, Slice b) noexcept {
  if (pa != pb) return pa < pb ? -1 : 1;
  return a.compare(b);
}

// The first 16 bytes of a key as two KeyPrefix words (bytes 0..7, bytes 8..15, each zero-
// padded), for comparisons among keys that share their first 8 bytes (decimal or zero-padded
// ids, "user:..."): where two differ, their order is the keys' bytewise order (zero padding
// sorts a key that is a prefix of another first); equal ones say nothing.
struct KeyPrefix16 {
  uint64_t hi = 0, lo = 0;
  bool operator==(const KeyPrefix16& o) const noexcept { return hi == o.hi && lo == o.lo; }
  bool operator!=(const KeyPrefix16& o) const noexcept { return !(*this == o); }
};
inline KeyPrefix16 Prefix16(Slice key, uint64_t hi) noexcept {
  return KeyPrefix16{hi, key.size() > 8 ? KeyPrefix(key.data() + 8, key.size() - 8) : 0};
}
inline KeyPrefix16 Prefix16(Slice key) noexcept { return Prefix16(key, KeyPrefix(key)); }
// Bytewise order of (pa, a) and (pb, b), where pa and pb are the keys' Prefix16.
inline int CompareKeys(const KeyPrefix16& pa, Slice a, const KeyPrefix16& pb, Slice b) noexcept {
  if (pa.hi != pb.hi) return pa.hi < pb.hi ? -1 : 1;
  if (pa.lo != pb.lo) return pa.lo < pb.lo ? -1 : 1;
  return a.compare(b);
}

inline Slice KeyOf(const KVSlot* kv) noexcept { return Slice(kv->key(), kv->key_size); }
inline Slice ValueOf(const KVSlot* kv) noexcept { return Slice(kv->value(), kv->value_size); }

// Bit i set when hashes[i] == h, for the 48 slots of a leaf.
inline uint64_t MatchMask(const uint8_t* hashes, uint8_t h) noexcept {
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(static_cast<char>(h));
  const uint64_t m0 = static_cast<uint16_t>(_mm_movemask_epi8(
      _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hashes)), needle)));
  const uint64_t m1 = static_cast<uint16_t>(_mm_movemask_epi8(
      _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hashes + 16)), needle)));
  const uint64_t m2 = static_cast<uint16_t>(_mm_movemask_epi8(
      _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(hashes + 32)), needle)));
  return m0 | (m1 << 16) | (m2 << 32);
#else
  uint64_t mask = 0;
  for (int i = 0; i < kLeafSlots; i++)
    if (hashes[i] == h) mask |= uint64_t{1} << i;
  return mask;
#endif
}

inline constexpr uint64_t kAllSlots = (uint64_t{1} << kLeafSlots) - 1;
static_assert(kLeafSlots == 48, "MatchMask reads exactly 3 x 16 fingerprints");

struct LeafNode {
  alignas(16) uint8_t hashes[kLeafSlots] = {};
  uint32_t count = 0;
  // A probe reads hashes, then one Slot (prefix and KVSlot pointer share a cache line).
  struct Slot {
    uint64_t prefix;
    const KVSlot* kv;
  } slot[kLeafSlots];
  Leaf* pleaf = nullptr;
  PoolOffset offset = 0;  // of pleaf in the pool
  // Neighbours in key order while the leaf is in the tree (InnerTree keeps them).
  LeafNode* prev = nullptr;
  LeafNode* next = nullptr;
  // Neighbours on the persistent leaf list (Root::head, Leaf::next), mirrored by the engine.
  LeafNode* list_prev = nullptr;
  LeafNode* list_next = nullptr;

  uint64_t LiveMask() const noexcept { return ~MatchMask(hashes, 0) & kAllSlots; }
  Slice Key(int i) const noexcept { return KeyOf(slot[i].kv); }

  // The slot holding `key` (whose fingerprint is h and prefix pfx), or -1.
  int Find(uint8_t h, uint64_t pfx, Slice key) const noexcept {
    for (uint64_t m = MatchMask(hashes, h); m != 0; m &= m - 1) {
      const int i = __builtin_ctzll(m);
      if (slot[i].prefix == pfx && slot[i].kv->key_size == key.size() &&
          std::memcmp(slot[i].kv->key(), key.data(), key.size()) == 0)
        return i;
    }
    return -1;
  }
  // A dead slot. REQUIRES: count < kLeafSlots.
  int FreeSlot() const noexcept { return __builtin_ctzll(MatchMask(hashes, 0)); }

  void Set(int i, uint8_t h, uint64_t pfx, const KVSlot* kv) noexcept {
    hashes[i] = h;
    slot[i].prefix = pfx;
    slot[i].kv = kv;
    count++;
  }
  void Clear(int i) noexcept {
    hashes[i] = 0;
    count--;
  }

  // Fills the cache from `leaf` (base: the pool's mapping). Reads each live KVSlot's header
  // and first 8 key bytes; the KVSlots are prefetched first so their cache misses overlap.
  void Load(Leaf* leaf, PoolOffset off, const char* base) noexcept {
    pleaf = leaf;
    offset = off;
    prev = next = nullptr;
    std::memcpy(hashes, leaf->hashes, sizeof(hashes));
    const uint64_t live = LiveMask();
    for (uint64_t m = live; m != 0; m &= m - 1) {
      const int i = __builtin_ctzll(m);
      slot[i].kv = reinterpret_cast<const KVSlot*>(base + leaf->slots[i]);
      __builtin_prefetch(slot[i].kv);
    }
    count = 0;
    for (uint64_t m = live; m != 0; m &= m - 1) {
      const int i = __builtin_ctzll(m);
      slot[i].prefix = KeyPrefix(slot[i].kv->key(), slot[i].kv->key_size);
      count++;
    }
  }

  // The live slot with the largest key. REQUIRES: count > 0.
  int MaxSlot() const noexcept {
    uint64_t m = LiveMask();
    int best = __builtin_ctzll(m);
    for (m &= m - 1; m != 0; m &= m - 1) {
      const int i = __builtin_ctzll(m);
      if (CompareKeys(slot[i].prefix, Key(i), slot[best].prefix, Key(best)) > 0) best = i;
    }
    return best;
  }
  // The live slot with the smallest key. REQUIRES: count > 0.
  int MinSlot() const noexcept {
    uint64_t m = LiveMask();
    int best = __builtin_ctzll(m);
    for (m &= m - 1; m != 0; m &= m - 1) {
      const int i = __builtin_ctzll(m);
      if (CompareKeys(slot[i].prefix, Key(i), slot[best].prefix, Key(best)) < 0) best = i;
    }
    return best;
  }
};

}  // namespace tree3
