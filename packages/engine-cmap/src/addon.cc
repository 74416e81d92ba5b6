// The cmap addon: registers the engine with the SDK glue (the only N-API in this package).
#include <pmemkv/glue.h>

#include "cmap.h"

PMEMKV_REGISTER_ENGINE(pmemkv::cmap::CMap, pmemkv::cmap::kDescriptor);
