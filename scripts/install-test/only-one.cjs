'use strict';
// Run in an application that installed only @pmemkv/core and @pmemkv/engine-cmap: listEngines()
// lists that engine (and core's built-in blackhole) and nothing else.
const assert = require('node:assert/strict');
const { listEngines, findEngine } = require('@pmemkv/core');

const engines = listEngines().filter((e) => e !== 'blackhole');
assert.deepEqual(engines, ['cmap'], `listEngines() shows only cmap: ${listEngines()}`);
assert.equal(findEngine('cmap').name, 'cmap');
assert.throws(() => findEngine('tree3'), /npm install @pmemkv\/engine-tree3/);
console.log(`only-one.cjs: ok (engines: ${listEngines().join(', ')})`);
