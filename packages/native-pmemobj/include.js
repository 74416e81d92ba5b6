'use strict';
// The directory holding the C++ engine SDK headers (`#include <pmemkv/engine.h>`), for
// binding.gyp: "include_dirs": ["<!(node -p \"require('@pmemkv/native-pmemobj/include')\")"]
module.exports = require('node:path').join(__dirname, 'include');
