'use strict';
// Shared jest settings: tests are TypeScript compiled by @swc/jest (no type checking here;
// `tsc -b` is the typecheck step). Packages import each other through their built `dist/`.
const os = require('node:os');
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Native pools are cheap on tmpfs but crash tests spawn children: keep to the cores we have.
  maxWorkers: Math.max(1, Math.min(2, os.cpus().length)),
  testTimeout: 60000,
};
