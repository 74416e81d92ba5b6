// The tree3 addon: registers the engine with the SDK glue (the only N-API in this package).
#include <pmemkv/glue.h>

#include "tree3.h"

PMEMKV_REGISTER_ENGINE(tree3::Tree3, tree3::kDescriptor);
