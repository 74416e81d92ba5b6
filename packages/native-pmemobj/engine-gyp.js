'use strict';
// The path of engine.gyp (the build settings every engine addon shares), for binding.gyp:
//   "dependencies": ["<!(node -p \"require('@pmemkv/native-pmemobj/engine-gyp')\"):pmemkv_engine"]
module.exports = require('node:path').join(__dirname, 'engine.gyp');
