// The stree addon: registers the engine with the SDK glue (the only N-API in this package).
#include <pmemkv/glue.h>

#include "stree.h"

PMEMKV_REGISTER_ENGINE(stree::STree, stree::kDescriptor);
