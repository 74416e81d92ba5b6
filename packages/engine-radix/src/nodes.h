// Reading the four inner-node shapes of layout.h through one interface of "slots".
//
// The entries of a node in key order are its slots: slot 0 is `end` (the shortest key below
// the node, a prefix of all the others), slots 1.. are the children in byte order (for
// Node4/16/48 slot i + 1 is children[i]; for Node256 slot b + 1 is children[b], empty when 0).
// A cursor remembers a position in a node as a slot; a lookup finds a child by its byte.
//
// These functions only read. REQUIRES of all of them: `n` was checked by Radix::Follow (its
// kind is a node kind, its bytes lie in the pool and count <= its capacity), so every index
// they compute lies inside the node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "layout.h"

namespace radix {

// Capacity of a node kind; 0 for anything that is not a node kind.
inline int Capacity(uint8_t kind) noexcept {
  switch (kind) {
    case kNode4: return 4;
    case kNode16: return 16;
    case kNode48: return 48;
    case kNode256: return 256;
    default: return 0;
  }
}

// Bytes of a node of `kind`; 0 for anything that is not a node kind.
inline size_t NodeBytes(uint8_t kind) noexcept {
  switch (kind) {
    case kNode4: return sizeof(Node4);
    case kNode16: return sizeof(Node16);
    case kNode48: return sizeof(Node48);
    case kNode256: return sizeof(Node256);
    default: return 0;
  }
}

inline bool IsSorted(uint8_t kind) noexcept { return kind != kNode256; }

// Node4/16/48: the byte array and the child array.
inline const uint8_t* SortedBytes(const NodeHeader* n) noexcept { return reinterpret_cast<const uint8_t*>(n + 1); }
inline uint8_t* SortedBytes(NodeHeader* n) noexcept { return reinterpret_cast<uint8_t*>(n + 1); }
inline size_t ChildrenOffset(uint8_t kind) noexcept {
  switch (kind) {
    case kNode4: return offsetof(Node4, children);
    case kNode16: return offsetof(Node16, children);
    case kNode48: return offsetof(Node48, children);
    default: return offsetof(Node256, children);
  }
}
inline const PoolOffset* Children(const NodeHeader* n) noexcept {
  return reinterpret_cast<const PoolOffset*>(reinterpret_cast<const char*>(n) + ChildrenOffset(n->kind));
}
inline PoolOffset* Children(NodeHeader* n) noexcept {
  return reinterpret_cast<PoolOffset*>(reinterpret_cast<char*>(n) + ChildrenOffset(n->kind));
}

// Index of `b` in the first `count` bytes of a sorted byte array, or -1. The array is read in
// 16-byte steps within the node (Node4's 8 bytes are followed by its children), masked to count.
inline int FindByte(const uint8_t* bytes, int count, uint8_t b) noexcept {
#if defined(__SSE2__)
  const __m128i want = _mm_set1_epi8(static_cast<char>(b));
  for (int i = 0; i < count; i += 16) {
    const __m128i have = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(want, have)));
    if (count - i < 16) mask &= (1u << (count - i)) - 1;
    if (mask != 0) return i + __builtin_ctz(mask);
  }
  return -1;
#else
  for (int i = 0; i < count; i++)
    if (bytes[i] == b) return i;
  return -1;
#endif
}

// Index of the first of the first `count` sorted bytes that is >= b (count when none).
inline int LowerBound(const uint8_t* bytes, int count, uint8_t b) noexcept {
  int lo = 0, hi = count;
  while (lo < hi) {
    const int mid = (lo + hi) / 2;
    if (bytes[mid] < b) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// The child of byte `b`, or 0.
inline PoolOffset FindChild(const NodeHeader* n, uint8_t b) noexcept {
  if (n->kind == kNode256) return Children(n)[b];
  const int i = FindByte(SortedBytes(n), n->count, b);
  return i < 0 ? 0 : Children(n)[i];
}

// The slot holding the child of byte `b`, for changing it; null when there is none.
inline PoolOffset* ChildRef(NodeHeader* n, uint8_t b) noexcept {
  if (n->kind == kNode256) return Children(n)[b] != 0 ? &Children(n)[b] : nullptr;
  const int i = FindByte(SortedBytes(n), n->count, b);
  return i < 0 ? nullptr : &Children(n)[i];
}

// One past the last slot.
inline int SlotLimit(const NodeHeader* n) noexcept { return n->kind == kNode256 ? 257 : n->count + 1; }

// What slot `s` holds (0 when empty).
inline PoolOffset SlotChild(const NodeHeader* n, int s) noexcept { return s == 0 ? n->end : Children(n)[s - 1]; }

// The byte of child slot `s` (s >= 1).
inline uint8_t SlotByte(const NodeHeader* n, int s) noexcept {
  return n->kind == kNode256 ? static_cast<uint8_t>(s - 1) : SortedBytes(n)[s - 1];
}

// The first non-empty slot after `s` (s = -1: the first of all), or -1.
inline int NextSlot(const NodeHeader* n, int s) noexcept {
  int i = s + 1;
  if (i == 0) {
    if (n->end != 0) return 0;
    i = 1;
  }
  if (n->kind != kNode256) return i <= n->count ? i : -1;  // sorted children are never empty
  for (; i <= 256; i++)
    if (Children(n)[i - 1] != 0) return i;
  return -1;
}

// The last non-empty slot before `s` (s = SlotLimit: the last of all), or -1.
inline int PrevSlot(const NodeHeader* n, int s) noexcept {
  int i = s - 1;
  if (n->kind != kNode256) {
    if (i >= 1) return i;
  } else {
    for (; i >= 1; i--)
      if (Children(n)[i - 1] != 0) return i;
  }
  return n->end != 0 && s > 0 ? 0 : -1;
}

inline int FirstSlot(const NodeHeader* n) noexcept { return NextSlot(n, -1); }
inline int LastSlot(const NodeHeader* n) noexcept { return PrevSlot(n, SlotLimit(n)); }

// The slot of the child of byte `b`, or -1.
inline int FindChildSlot(const NodeHeader* n, uint8_t b) noexcept {
  if (n->kind == kNode256) return Children(n)[b] != 0 ? b + 1 : -1;
  const int i = FindByte(SortedBytes(n), n->count, b);
  return i < 0 ? -1 : i + 1;
}

// The first child slot whose byte is greater than `b`, or -1 (never the end slot).
inline int FirstSlotAbove(const NodeHeader* n, uint8_t b) noexcept {
  if (n->kind == kNode256) return b == 255 ? -1 : NextSlot(n, b + 1);
  const int i = LowerBound(SortedBytes(n), n->count, static_cast<uint8_t>(b));
  const int j = i < n->count && SortedBytes(n)[i] == b ? i + 1 : i;
  return j < n->count ? j + 1 : -1;
}

// The last non-empty slot whose byte is less than `b` (the end slot counts as below every
// byte), or -1.
inline int LastSlotBelow(const NodeHeader* n, uint8_t b) noexcept {
  if (n->kind == kNode256) return PrevSlot(n, b + 1);
  const int i = LowerBound(SortedBytes(n), n->count, b);  // children [0, i) are below b
  return i > 0 ? i : (n->end != 0 ? 0 : -1);
}

// Length of the common prefix of a and b.
inline size_t Mismatch(const char* a, size_t an, const char* b, size_t bn) noexcept {
  const size_t n = an < bn ? an : bn;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (x != y) return i + static_cast<size_t>(__builtin_ctzll(x ^ y) / 8);
#else
    if (x != y) return i + static_cast<size_t>(__builtin_clzll(x ^ y) / 8);
#endif
  }
  for (; i < n; i++)
    if (a[i] != b[i]) return i;
  return n;
}

}  // namespace radix
