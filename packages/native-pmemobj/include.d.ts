/** The directory holding the C++ engine SDK headers (`#include <pmemkv/engine.h>`). */
declare const includeDir: string;
export = includeDir;
