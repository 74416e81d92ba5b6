// The robinhood addon: registers the engine with the SDK glue (the only N-API in this package).
#include <pmemkv/glue.h>

#include "robinhood.h"

PMEMKV_REGISTER_ENGINE(pmemkv::robinhood::RobinHood, pmemkv::robinhood::kDescriptor);
