// The csmap addon: registers the engine with the SDK glue (the only N-API in this package).
#include <pmemkv/glue.h>

#include "csmap.h"

PMEMKV_REGISTER_ENGINE(csmap::CSMap, csmap::kDescriptor);
