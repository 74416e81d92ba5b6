'use strict';
// Run in the fresh application by scripts/install-test.sh, as `node roundtrip.cjs <dir> write|read`:
// opens cmap and tree3 by name (and the third-party memtree), writes, closes, reopens and reads.
// `read` runs in a second process and finds what `write` left in the pools.
const assert = require('node:assert/strict');
const { join } = require('node:path');
const { open, listEngines } = require('@pmemkv/core');

const [dir, phase] = process.argv.slice(2);
const config = (engine) => ({ path: join(dir, `${engine}.kv`), size: 32 * 1024 * 1024, create_if_missing: 1 });

for (const engine of ['cmap', 'tree3']) {
  if (phase === 'write') {
    const db = open(engine, config(engine));
    db.put(`${engine}-key`, 'written by CommonJS');
    db.close();
  }
  const again = open(engine, config(engine));
  assert.equal(again.get(`${engine}-key`), 'written by CommonJS', `${engine}: the value survives a reopen`);
  again.close();
}

const mem = open('memtree');
mem.put('b', '2');
mem.put('a', '1');
assert.deepEqual([...mem.keys()], ['a', 'b'], 'memtree: found by name, sorted');
mem.close();

const engines = listEngines();
for (const name of ['cmap', 'tree3', 'memtree']) assert.ok(engines.includes(name), `listEngines() has ${name}: ${engines}`);
console.log(`roundtrip.cjs ${phase}: ok (engines: ${engines.join(', ')})`);
