// AllocClasses: the libpmemobj allocation classes every engine allocates from, registered by
// Pool::Open on each open and create (libpmemobj keeps allocation classes in DRAM only).
//
// Engines get the flags for an object of n bytes from Pool::AllocFlags(n) and pass them to
// pmemobj_tx_xalloc, pmemobj_xalloc or pmemobj_xreserve. An allocation made without them
// (flags 0) still works but uses libpmemobj's default classes, which are what this header
// replaces for engine data.
//
// Why: libpmemobj's default classes are 54 classes, one unit per object, and the larger ones
// fetch runs of up to 4 MiB: every size class in use holds a run of its own, so a mix of value
// sizes reserves most of a small pool while it is mostly empty (mixed sizes of 16 B to 64 KiB
// gave OUT_OF_MEMORY with a 64 MiB pool 4 % full), and an 8 MiB pool has no 4 MiB of free
// contiguous chunks for a single 100 KiB value once an engine has allocated its table.
//
// Design: 11 classes with 16-byte (compact) headers, unit sizes doubling from 136 B
// (32 B and 64 B below), each serving the requests that need 8 to 16 of its units:
//
//   unit (B)         32   64   136   272   544   1088   2176   4352    8704   17408   34816
//   largest request 496 1008  2160  4336  8688  17392  34800  69616  139248  278512  557040
//
// - Internal waste is under one unit per object: under 32 B in the smallest class, under 14 %
//   of the object above it (about 4 % on average over uniform sizes). The units from 136 B up
//   are 17/16 of a power of two, so a power-of-two value plus up to 1/16 of it in overhead
//   (key, engine header, allocation header) fills exactly 8 or 16 units: a 1 KiB value with a
//   16 B key and an 8 B engine header wastes 24 B.
// - libpmemobj places an object in one 64-unit word of its run's bitmap, never across two;
//   objects of at most 16 units leave at most 1/8 of a word unused when every object of the
//   class has one size, and mixed sizes fill the gaps.
// - Runs are small: one 256 KiB chunk up to the 1088 B class; above, enough chunks for 240
//   units, capped at 1/32 of the pool (at least 2 chunks, and always room for two objects of
//   the class's largest size). A class in use thus holds at most a few percent of a pool, and
//   a run fits wherever a chunk or two of a fragmented heap are free. The cap depends only on
//   the pool size, so a pool gets the same classes on every open.
// - Requests above 557,040 B use libpmemobj's huge allocations: whole 256 KiB chunks (under
//   1/3 lost at that size, less above). No request an engine makes with these flags reaches
//   libpmemobj's default run classes (the largest serves up to 349,424 B with 4 MiB runs).
//
// Measured with a scratch program (/dev/shm, PMEM_IS_PMEM_FORCE=1, one thread): payload
// (value + 16 B key) held at OUT_OF_MEMORY as a share of the pool, objects of value + key +
// an 8 B engine header allocated in transactions; libpmemobj's default classes -> these:
//
//   pool    16 B value      1 KiB           64 KiB          100 KiB
//   64 MiB  23.5 -> 46.9 %  89.6 -> 89.6 %  92.3 -> 87.9 %  91.6 -> 87.0 %
//   8 MiB   13.3 -> 26.5 %  50.6 -> 50.6 %  49.2 -> 43.8 %  48.8 -> 48.8 %
//
// (A 32 B engine header: 16 B values 23.5 -> 30.8 % at 64 MiB, the rest unchanged. An 8 MiB
// pool has about 4.5 MiB of heap; the rest is libpmemobj's lanes.) Mixed churn: 100,000
// overwrites and removes of 4,096 keys with random sizes of 16 B to 64 KiB, live data kept at
// or below half of a 64 MiB pool: the default classes hit OUT_OF_MEMORY after 396 operations
// (log-uniform sizes, 4.1 % of the pool live) or 59 (uniform sizes, 2.6 % live); these
// classes never did, and afterwards the pool still filled to 81 % (80 %) with mixed sizes.
// Reopening every 1,000 operations changed nothing. The same churn on an 8 MiB pool with at
// most 2 MiB live: default OUT_OF_MEMORY after 8 (2) operations, these after 521 (297), at
// 25 % of the pool live. A pool filled with 40 B objects and emptied then filled with 64 KiB
// objects as a fresh one does. Large fixed values lose up to 5 % against the default classes'
// 4 MiB runs of one object per unit: the price of a mix of sizes not filling the pool.
// Through the engines (`pnpm --filter @pmemkv/bench capacity`, 64 MiB, 16-byte keys, values of
// 16 B / 1 KiB / 64 KiB): cmap 12.5 / 76 / 86 % -> 21.3 / 77.7 / 86.4 %, tree3 17 / 88 / 92 %
// -> 40.0 / 88.1 / 86.4 %; the conformance churn (churn.ts) passes on both.
//
// Compatibility: the classes are not part of the pool format (objects carry their own size
// and runs their own unit size), so any pool opens with any class set. libpmemobj reuses the
// free space of a run only while a class with the run's unit size and run length is
// registered: the classes depend only on the pool size, so they are the same on every open.
// Changing the constants below would leave partly used runs of the old classes unused for new
// objects until they empty (their objects are still read and freed normally).
//
// Failure: registration runs before the engine allocates. A class libpmemobj refuses
// because an identical default class exists is replaced by that class (the same thing);
// any other refusal leaves the sizes of that class to libpmemobj's default classes (flags 0),
// which is the behaviour before this header: correct, with the space use described above.
// Open never fails because of it; registered() tells how many classes are ours.
//
// Thread-safety: Register runs once, before the pool is shared; Flags is const and may be
// called from any thread.
#pragma once

#include <libpmemobj.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>

namespace pmemkv {

class AllocClasses {
 public:
  static constexpr size_t kCount = 11;
  // The unit sizes, smallest first (see above for why).
  static constexpr size_t kUnits[kCount] = {32, 64, 136, 272, 544, 1088, 2176, 4352, 8704, 17408, 34816};
  // A request of n bytes goes to the first class with n + kHeader <= kMaxUnits * unit.
  static constexpr size_t kMaxUnits = 16;
  static constexpr size_t kHeader = 16;  // POBJ_HEADER_COMPACT
  static constexpr size_t kChunk = 256 * 1024;  // libpmemobj's chunk: runs are whole chunks
  static constexpr size_t kRunUnits = 240;      // units a run aims to hold
  static constexpr size_t kMaxRunChunks = 16;   // 4 MiB, libpmemobj's largest default run

  // The largest request any class serves; larger ones are huge allocations (flags 0).
  static constexpr size_t kLargest = kMaxUnits * kUnits[kCount - 1] - kHeader;

  AllocClasses() = default;  // none registered: Flags() is 0 for every size

  // Registers the classes in `pop`, a pool of `pool_size` bytes (0 when unknown: poolsets,
  // device DAX; treated as a large pool). Never fails; see "Failure" above.
  static AllocClasses Register(PMEMobjpool* pop, uint64_t pool_size) {
    AllocClasses out;
    for (size_t i = 0; i < kCount; i++) out.ids_[i] = RegisterOne(pop, kUnits[i], RunChunks(kUnits[i], pool_size));
    return out;
  }

  // Flags selecting the class for an object of n bytes (the size passed to the allocation):
  // POBJ_CLASS_ID(id), or 0 above kLargest or when that class was not registered.
  uint64_t Flags(size_t n) const noexcept {
    for (size_t i = 0; i < kCount; i++)
      if (n + kHeader <= kMaxUnits * kUnits[i]) return ids_[i] == 0 ? 0 : POBJ_CLASS_ID(ids_[i]);
    return 0;
  }

  // Flags for a class of objects of exactly `unit` bytes (a multiple of `alignment`, itself a
  // power of two of at least 8) with no allocation header, registered in `pop` (a pool of
  // `pool_size` bytes, as Register), or 0 when libpmemobj refuses the class (allocate with
  // Flags(unit) then). For an engine's fixed-size nodes allocated many at a time:
  //   + a reservation writes nothing into the pool (a compact header is 16 bytes persisted per
  //     object: on an ordinary disk one msync each, before the publish);
  //   + every object starts at a multiple of `alignment` from the mapping's base;
  //   - the object carries no type number (pmemobj_type_num gives 0) and its size is the
  //     class's unit (pmemobj_alloc_usable_size gives `unit`): an engine that checks what an
  //     offset points to checks those instead. Request exactly `unit` bytes.
  // Like the other classes this one is not part of the pool format: call it on every open,
  // before the first allocation, with the same arguments.
  static uint64_t RegisterHeaderless(PMEMobjpool* pop, size_t unit, size_t alignment, uint64_t pool_size) {
    if (unit == 0 || alignment < 8 || (alignment & (alignment - 1)) != 0 || unit % alignment != 0) return 0;
    pobj_alloc_class_desc desc{};
    desc.unit_size = unit;
    desc.alignment = alignment;
    desc.units_per_block = static_cast<unsigned>((RunChunks(unit, pool_size) * kChunk - kRunOverhead) / unit);
    desc.header_type = POBJ_HEADER_NONE;
    if (pmemobj_ctl_set(pop, "heap.alloc_class.new.desc", &desc) != 0) return 0;
    return POBJ_CLASS_ID(desc.class_id);
  }

  // How many of the kCount classes are in use (kCount unless libpmemobj refused some).
  size_t registered() const noexcept {
    size_t n = 0;
    for (unsigned id : ids_) n += id != 0 ? 1 : 0;
    return n;
  }

  // The run length, in chunks, of the class with `unit` in a pool of `pool_size` bytes.
  static size_t RunChunks(size_t unit, uint64_t pool_size) {
    size_t want = (kRunUnits * unit + kChunk - 1) / kChunk;
    uint64_t cap = pool_size == 0 ? kMaxRunChunks : pool_size / 32 / kChunk;
    if (cap < 2) cap = 2;
    size_t chunks = want < cap ? want : static_cast<size_t>(cap);
    // Room for two objects of the class's largest size, and for the run's header and bitmap.
    size_t floor = (2 * kMaxUnits * unit + kRunOverhead + kChunk - 1) / kChunk;
    if (chunks < floor) chunks = floor;
    if (chunks > kMaxRunChunks) chunks = kMaxRunChunks;
    return chunks < 1 ? 1 : chunks;
  }

 private:
  // Bytes of a run that hold its header and bitmap, never units (an upper bound).
  static constexpr size_t kRunOverhead = 4096;

  // The class id for `unit` in runs of `chunks` chunks, or 0 when libpmemobj refuses it.
  static unsigned RegisterOne(PMEMobjpool* pop, size_t unit, size_t chunks) {
    pobj_alloc_class_desc desc{};
    desc.unit_size = unit;
    desc.alignment = 0;
    desc.units_per_block = static_cast<unsigned>((chunks * kChunk - kRunOverhead) / unit);
    desc.header_type = POBJ_HEADER_COMPACT;
    if (pmemobj_ctl_set(pop, "heap.alloc_class.new.desc", &desc) == 0) return desc.class_id;
    // libpmemobj refuses a class identical to one it has (a default class with this unit and
    // run length): use that one.
    for (unsigned id = 1; id < 255; id++) {
      char name[40];
      std::snprintf(name, sizeof(name), "heap.alloc_class.%u.desc", id);
      pobj_alloc_class_desc have{};
      if (pmemobj_ctl_get(pop, name, &have) != 0) continue;
      if (have.unit_size == unit && have.header_type == POBJ_HEADER_COMPACT &&
          (have.unit_size * have.units_per_block + kChunk - 1) / kChunk == chunks)
        return id;
    }
    return 0;
  }

  unsigned ids_[kCount] = {};  // 0: not registered (id 0 is libpmemobj's huge class)
};

}  // namespace pmemkv
