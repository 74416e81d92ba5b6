// Built-in key comparators of sorted engines, chosen by name with the config key `comparator`
// and stored in the pool at creation.
//
// A sorted engine keeps its keys in the order of one comparator for the pool's whole life:
// reopening it with another would make every lookup wrong, so the name is persistent and a
// mismatch is COMPARATOR_MISMATCH naming both. Comparators are native functions (a JS callback
// cannot run on the libuv threads and worker threads that call engines); the set is closed and
// listed in kComparators.
//
// Engine side:
//   descriptor  .config_schema = PMEMKV_SORTED_CONFIG_SCHEMA  (declares `comparator`)
//   open        const Comparator* cmp; Status s = ComparatorFromConfig(config, "csmap", &cmp);
//               new pool: StoreComparatorName(root->comparator, *cmp) inside the init tx;
//               existing: CheckStoredComparator(root->comparator, *cmp, path, "csmap")
//               then Engine::SetComparator(*cmp) so the SDK's ranges and derived walks use it
//               (the glue hands Count and Walk ranges that compare with it).
//   compare     comparator().compare(a, b) (<0, 0, >0) everywhere the structure orders keys.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "status.h"

namespace pmemkv {

using KeyCompare = int (*)(std::string_view a, std::string_view b) noexcept;

struct Comparator {
  const char* name;
  KeyCompare compare;
};

namespace comparator_internal {
inline int Bytewise(std::string_view a, std::string_view b) noexcept {
  const int c = a.compare(b);
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}
inline int ReverseBytewise(std::string_view a, std::string_view b) noexcept { return Bytewise(b, a); }
}  // namespace comparator_internal

// memcmp order, a shorter prefix first: the default, and the order of engines without the key.
inline constexpr Comparator kBytewise = {"bytewise", &comparator_internal::Bytewise};
// The exact reverse of bytewise: a longer key first among keys sharing a prefix.
inline constexpr Comparator kReverseBytewise = {"reverse-bytewise", &comparator_internal::ReverseBytewise};

inline constexpr const Comparator* kComparators[] = {&kBytewise, &kReverseBytewise};

// The config schema of a sorted engine with no other keys of its own. Engines with more keys
// splice PMEMKV_COMPARATOR_SCHEMA_PROPERTY into their own "properties".
#define PMEMKV_COMPARATOR_SCHEMA_PROPERTY                                                               \
  R"("comparator":{"type":"string","enum":["bytewise","reverse-bytewise"],"description":)"             \
  R"("The order of keys, fixed when the pool is created and stored in it: bytewise (memcmp order, )"   \
  R"(the default) or reverse-bytewise. Reopening with another is COMPARATOR_MISMATCH. Default: the )" \
  R"(stored one on an existing pool, bytewise on a new one."})"
#define PMEMKV_SORTED_CONFIG_SCHEMA R"({"type":"object","properties":{)" PMEMKV_COMPARATOR_SCHEMA_PROPERTY "}}"

// The persistent field holding a comparator's name (NUL-padded). All zero: the pool was
// created before the name was stored, or is being created.
struct StoredComparatorName {
  char bytes[32];
};
static_assert(sizeof(StoredComparatorName) == 32, "persistent format");

inline const Comparator* FindComparator(std::string_view name) noexcept {
  for (const Comparator* c : kComparators)
    if (name == c->name) return c;
  return nullptr;
}

inline std::string ComparatorNames() {
  std::string names;
  for (const Comparator* c : kComparators) names += std::string(names.empty() ? "" : ", ") + c->name;
  return names;
}

// The comparator the config names, or null in *out when the config has no `comparator` key
// (then an existing pool's stored one applies, and bytewise on a new pool).
template <class EngineConfig>  // pmemkv::Config (engine.h)
Status ComparatorFromConfig(const EngineConfig& config, const char* engine, const Comparator** out) {
  *out = nullptr;
  const auto* item = config.Find("comparator");
  if (item == nullptr) return Status::OK();
  if (item->type != EngineConfig::Item::Type::kString)
    return Status::InvalidArgument(std::string("the ") + engine + " config key 'comparator' must be a string, one of: " +
                                   ComparatorNames());
  *out = FindComparator(item->string_value);
  if (*out == nullptr)
    return Status::InvalidArgument(std::string("the ") + engine + " engine has no comparator '" + item->string_value +
                                   "'; built-in comparators: " + ComparatorNames() +
                                   " (a JS comparator function is not possible: engines run on native threads)");
  return Status::OK();
}

// REQUIRES: inside the transaction that initializes the root (the field is snapshotted).
inline void StoreComparatorName(StoredComparatorName* field, const Comparator& c) noexcept {
  std::memset(field->bytes, 0, sizeof field->bytes);
  std::memcpy(field->bytes, c.name, std::strlen(c.name));
}

// Resolves the comparator of an existing pool: the stored one, which the config (if it names
// one) must equal. A name this build does not know, or bytes that are not a NUL-padded name,
// mean a damaged pool or a newer release (UNKNOWN_ERROR naming what was found).
inline Status ResolveStoredComparator(const StoredComparatorName& field, const Comparator* configured,
                                      const std::string& path, const char* engine, const Comparator** out) {
  const char* bytes = field.bytes;
  const size_t n = strnlen(bytes, sizeof field.bytes);
  for (size_t i = n; i < sizeof field.bytes; i++)
    if (bytes[i] != '\0')
      return Status::Unknown("the pool at " + path + " is damaged (its comparator name is not NUL-padded): " +
                             "check it with `pmempool check`, or restore it from a copy");
  const std::string stored(bytes, n);
  const Comparator* found = FindComparator(stored);
  if (found == nullptr)
    return Status::Unknown("the pool at " + path + " stores comparator '" + stored + "', which this build of " +
                           engine + " does not have (built-in: " + ComparatorNames() +
                           "): open it with the release that created it");
  if (configured != nullptr && configured != found)
    return Status(Code::kComparatorMismatch, "the pool at " + path + " was created with comparator '" + stored +
                                                 "' but the config asks for '" + configured->name +
                                                 "': leave `comparator` out or set it to '" + stored + "'");
  *out = found;
  return Status::OK();
}

}  // namespace pmemkv
