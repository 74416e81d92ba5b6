// EngineDescriptor: an engine's identity, declared once. The JS plugin (`nativeEngine()` in
// @pmemkv/native-pmemobj/plugin) is built from it when the addon loads, and
// PMEMKV_REGISTER_ENGINE (glue.h) checks it against the engine class at compile time, so a
// name, layout, capability or thread model can never disagree between C++ and JS.
//
//   constexpr pmemkv::EngineDescriptor kDescriptor = {
//       .name = "cmap", .layout = kLayoutName, .layout_version = kLayoutVersion,
//       .thread_model = pmemkv::kThreadSafe, .persistent = true, .defrag = true};
//
// Derived, not declared: `concurrent` (thread_model == kThreadSafe), `iterators` (every engine
// walks: sorted ones with a cursor, unsorted ones with WalkChunk) and `reverse` (sorted).
#pragma once

#include <cstdint>
#include <type_traits>

#include "engine.h"

namespace pmemkv {

// The version of @pmemkv/core's engine contract that this SDK's glue implements. The JS
// plugin refuses to load when core implements another (both versions named).
constexpr int kContractVersion = 2;

struct EngineDescriptor {
  const char* name = nullptr;            // runtime name, /^[a-z0-9][a-z0-9_-]*$/
  const char* layout = nullptr;          // pool layout name, "pmemkv_<name>"; null for volatile engines
  uint64_t layout_version = 0;           // the persistent format version the engine reads and writes
  ThreadModel thread_model = kSerialized;
  // kSingleWriter only: Put and Remove make every change readers can see inside
  // Engine::ExcludeReaders, so they run beside reads (Batch and Defrag still exclude them).
  bool narrow_write_lock = false;
  bool persistent = false;
  bool sorted = false;                   // implements NewCursor (else WalkChunk)
  bool transactions = false;             // Batch is atomic (overrides Engine::Batch)
  bool defrag = false;                   // overrides Engine::Defrag
  uint64_t max_key_size = 0;             // 0: only the pool bounds keys
  uint64_t fixed_size = 0;               // >0: every key and value is exactly this many bytes
  // Volatile engines: the config key `name` (declared in config_schema) joins `path` in naming
  // the instance that opens share (see glue/registry.h InstanceKey); without both an open is
  // private.
  bool shared_by_name = false;
  // JSON Schema (draft-07 subset, see @pmemkv/core's ConfigSchema) of the engine's own config
  // keys, e.g. R"({"type":"object","properties":{}})".
  const char* config_schema = R"({"type":"object","properties":{}})";
};

namespace descriptor_internal {

constexpr bool StartsWith(const char* s, const char* prefix) {
  for (; *prefix != '\0'; ++s, ++prefix)
    if (*s != *prefix) return false;
  return true;
}
constexpr bool Equal(const char* a, const char* b) {
  for (; *a != '\0' || *b != '\0'; ++a, ++b)
    if (*a != *b) return false;
  return true;
}
constexpr bool ValidName(const char* s) {
  if (s == nullptr || *s == '\0') return false;
  for (const char* p = s; *p != '\0'; ++p) {
    const bool lower = *p >= 'a' && *p <= 'z', digit = *p >= '0' && *p <= '9';
    if (!lower && !digit && (p == s || (*p != '_' && *p != '-'))) return false;
  }
  return true;
}

}  // namespace descriptor_internal

// True when `layout` is "pmemkv_" followed by `name`.
constexpr bool LayoutMatchesName(const EngineDescriptor& d) {
  return d.layout != nullptr && descriptor_internal::StartsWith(d.layout, "pmemkv_") &&
         descriptor_internal::Equal(d.layout + 7, d.name);
}

}  // namespace pmemkv

// Compile-time checks of a descriptor against its engine class (used by PMEMKV_REGISTER_ENGINE).
// Comparing member pointer types tells whether EngineClass declares its own override: the
// pointer to an inherited member has the base class's type.
#define PMEMKV_CHECK_DESCRIPTOR(EngineClass, d)                                                              \
  static_assert(::pmemkv::descriptor_internal::ValidName((d).name),                                          \
                "engine name must match /^[a-z0-9][a-z0-9_-]*$/");                                           \
  static_assert(!(d).persistent || ::pmemkv::LayoutMatchesName(d),                                           \
                "a persistent engine's layout must be \"pmemkv_\" + its name");                              \
  static_assert(!(d).shared_by_name || !(d).persistent,                                                      \
                "shared_by_name is for volatile engines (a persistent engine is shared by its pool path)");   \
  static_assert(!(d).narrow_write_lock || (d).thread_model == ::pmemkv::kSingleWriter,                       \
                "narrow_write_lock is for kSingleWriter engines");                                           \
  static_assert(!(d).transactions ||                                                                         \
                    !std::is_same<decltype(&EngineClass::Batch), decltype(&::pmemkv::Engine::Batch)>::value, \
                "an engine that declares transactions must override Batch with an atomic one");              \
  static_assert(!(d).defrag ||                                                                               \
                    !std::is_same<decltype(&EngineClass::Defrag), decltype(&::pmemkv::Engine::Defrag)>::value, \
                "an engine that declares defrag must override Defrag");                                      \
  static_assert(!(d).sorted || !std::is_same<decltype(&EngineClass::NewCursor),                              \
                                             decltype(&::pmemkv::Engine::NewCursor)>::value,                 \
                "a sorted engine must override NewCursor");                                                  \
  static_assert((d).sorted || !std::is_same<decltype(&EngineClass::WalkChunk),                               \
                                            decltype(&::pmemkv::Engine::WalkChunk)>::value,                  \
                "an unsorted engine must override WalkChunk");                                               \
  static_assert(true, "")
