// Options: the robinhood engine's tuning, from its config keys and environment variables.
//
//   key            variable                          default  range          stored
//   load_factor    PMEMKV_ROBINHOOD_LOAD_FACTOR      0.5      0.05 .. 0.95   no (any value on reopen)
//   shards_number  PMEMKV_ROBINHOOD_SHARDS_NUMBER    1024     1 .. 65536     yes (fixed at creation)
//
// A config key wins over its variable; a variable is read only when its key is absent. Core has
// checked the config keys against the schema (kConfigSchema); the variables are checked here:
// a value that does not parse or is out of range is INVALID_ARGUMENT naming the variable.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <pmemkv/engine.h>
#include <pmemkv/status.h>

#include "layout.h"

namespace pmemkv {
namespace robinhood {

constexpr double kDefaultLoadFactor = 0.5;
constexpr double kMinLoadFactor = 0.05;
constexpr double kMaxLoadFactor = 0.95;
constexpr uint64_t kDefaultShards = 1024;

constexpr const char kLoadFactorVariable[] = "PMEMKV_ROBINHOOD_LOAD_FACTOR";
constexpr const char kShardsVariable[] = "PMEMKV_ROBINHOOD_SHARDS_NUMBER";

struct Options {
  double load_factor = kDefaultLoadFactor;
  uint64_t shards = kDefaultShards;
  // True when the config or the environment named a shard count (it must then match the pool's).
  bool shards_given = false;
  // Where the shard count came from, for messages ("config.shards_number" or the variable).
  std::string shards_source = "the default";
};

// Reads the options from `cfg` and the environment. INVALID_ARGUMENT names a bad variable.
inline Status ReadOptions(const Config& cfg, Options* out) {
  Options o;
  if (const Config::Item* item = cfg.Find("load_factor"); item != nullptr && item->type == Config::Item::Type::kNumber) {
    o.load_factor = item->number_value;
  } else if (const char* env = std::getenv(kLoadFactorVariable); env != nullptr && env[0] != '\0') {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(env, &end);
    if (errno != 0 || end == env || *end != '\0' || !std::isfinite(v) || v < kMinLoadFactor || v > kMaxLoadFactor)
      return Status::InvalidArgument(std::string(kLoadFactorVariable) + " is \"" + env +
                                     "\": set it to a number from 0.05 to 0.95 (default 0.5), or unset it");
    o.load_factor = v;
  }
  if (const Config::Item* item = cfg.Find("shards_number"); item != nullptr && item->type == Config::Item::Type::kNumber) {
    o.shards = static_cast<uint64_t>(item->number_value);
    o.shards_given = true;
    o.shards_source = "config.shards_number";
  } else if (const char* env = std::getenv(kShardsVariable); env != nullptr && env[0] != '\0') {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(env, &end, 10);
    if (errno != 0 || end == env || *end != '\0' || env[0] == '-' || env[0] == '+' || v < 1 || v > kMaxShards)
      return Status::InvalidArgument(std::string(kShardsVariable) + " is \"" + env +
                                     "\": set it to a whole number from 1 to 65536 (default 1024), or unset it");
    o.shards = v;
    o.shards_given = true;
    o.shards_source = kShardsVariable;
  }
  *out = o;
  return Status::OK();
}

// The JSON Schema of the config keys (descriptor.h). No `default`: core would fill it in, and
// then a config key would always hide its environment variable.
constexpr const char kConfigSchema[] =
    R"({"type":"object","properties":{)"
    R"("load_factor":{"type":"number","minimum":0.05,"maximum":0.95,"description":)"
    R"("Largest share of a shard table's home slots in use before the table doubles. Default 0.5, )"
    R"(or the PMEMKV_ROBINHOOD_LOAD_FACTOR environment variable when this key is absent. Lower is )"
    R"(faster and uses more of the pool. No effect on durability; may change on every open."},)"
    R"("shards_number":{"type":"integer","minimum":1,"maximum":65536,"description":)"
    R"("Number of shards, each a table with its own lock. Default 1024, or the )"
    R"(PMEMKV_ROBINHOOD_SHARDS_NUMBER environment variable when this key is absent. Fixed at )"
    R"(creation and stored in the pool: reopening with another value is INVALID_ARGUMENT, and a )"
    R"(reopen without the key or the variable uses the stored value."}}})";

}  // namespace robinhood
}  // namespace pmemkv
