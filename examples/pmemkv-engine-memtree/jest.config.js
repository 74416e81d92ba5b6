'use strict';
// Plain JavaScript tests: nothing to transform.
module.exports = { testEnvironment: 'node', transform: {}, testMatch: ['<rootDir>/test/**/*.test.js'], testTimeout: 60000 };
