'use strict';
module.exports = {
  ...require('../../jest.config.base.js'),
  // The glue tests drive a small engine built from test/fixture-engine against the SDK headers.
  globalSetup: '<rootDir>/test/fixture-engine/build.js',
};
