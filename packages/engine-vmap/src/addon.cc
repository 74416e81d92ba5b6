// The vmap addon: registers the engine with the SDK glue (the only N-API in this package).
#include <pmemkv/glue.h>

#include "vmap.h"

PMEMKV_REGISTER_ENGINE(pmemkv::vmap::VMap, pmemkv::vmap::kDescriptor);
