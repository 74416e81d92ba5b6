// The vcmap addon: registers the engine with the SDK glue (the only N-API in this package).
#include <pmemkv/glue.h>

#include "vcmap.h"

PMEMKV_REGISTER_ENGINE(pmemkv::vcmap::VCMap, pmemkv::vcmap::kDescriptor);
