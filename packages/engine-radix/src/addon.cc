// The radix addon: registers the engine with the SDK glue (the only N-API in this package).
#include <pmemkv/glue.h>

#include "radix.h"

PMEMKV_REGISTER_ENGINE(radix::Radix, radix::kDescriptor);
