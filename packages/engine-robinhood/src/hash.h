// HashKey / UnhashKey: the key hash of the robinhood engine and its inverse.
//
// PERSISTENT FORMAT: slots store HashKey(key) instead of the key (layout.h), so this function
// may never change for a kLayoutVersion.
//
// HashKey is the 64-bit finalizer of MurmurHash3 (fmix64, as PMDK's robinhood engine uses): two
// multiplications by odd constants between xor-shifts by 33. Each step is invertible (an
// xor-shift by at least half the width undoes itself; an odd multiplier has an inverse modulo
// 2^64), so HashKey is a bijection: distinct keys never share a hash, a hash identifies its key,
// and UnhashKey recovers it. Keys are read as little-endian 64-bit integers. HashKey(0) == 0,
// which is why the all-zero key has a record of its own (layout.h). Not keyed: the engine trusts
// its caller's keys (no defence against chosen-key flooding beyond the probe bound, which makes
// a flooded shard grow until the pool is full).
#pragma once

#include <cstdint>
#include <cstring>

namespace pmemkv {
namespace robinhood {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "keys are hashed as little-endian words, part of the persistent format");

namespace hash_detail {

constexpr uint64_t kMul1 = 0xff51afd7ed558ccdull;
constexpr uint64_t kMul2 = 0xc4ceb9fe1a85ec53ull;

// The inverse of odd m modulo 2^64 (Newton's iteration doubles the correct low bits each step,
// starting from 3 correct bits: m * m == 1 mod 8 for odd m).
constexpr uint64_t InverseOf(uint64_t m) noexcept {
  uint64_t x = m;
  for (int i = 0; i < 5; i++) x *= 2 - m * x;
  return x;
}
constexpr uint64_t kInv1 = InverseOf(kMul1);
constexpr uint64_t kInv2 = InverseOf(kMul2);
static_assert(kMul1 * kInv1 == 1 && kMul2 * kInv2 == 1, "multiplicative inverses");

}  // namespace hash_detail

constexpr uint64_t HashKey(uint64_t k) noexcept {
  k ^= k >> 33;
  k *= hash_detail::kMul1;
  k ^= k >> 33;
  k *= hash_detail::kMul2;
  k ^= k >> 33;
  return k;
}

constexpr uint64_t UnhashKey(uint64_t h) noexcept {
  h ^= h >> 33;
  h *= hash_detail::kInv2;
  h ^= h >> 33;
  h *= hash_detail::kInv1;
  h ^= h >> 33;
  return h;
}

static_assert(HashKey(0) == 0, "the all-zero key hashes to the empty-slot marker");
static_assert(UnhashKey(HashKey(0x0123456789abcdefull)) == 0x0123456789abcdefull, "bijection");

// The 8 bytes at p as a little-endian word, and back.
inline uint64_t LoadWord(const char* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void StoreWord(char* p, uint64_t v) noexcept { std::memcpy(p, &v, sizeof v); }

}  // namespace robinhood
}  // namespace pmemkv
