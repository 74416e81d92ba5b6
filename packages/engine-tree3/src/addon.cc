// The tree3 addon: registers the engine with the SDK glue, which exports open(config) and the
// JS handle. kSerialized: tree3 is not thread-safe, so the glue holds the engine's mutex
// around every call, sync and async.
#include <pmemkv/glue.h>

#include "tree3.h"

PMEMKV_REGISTER_ENGINE(tree3::Tree3, "tree3", pmemkv::kSerialized);
