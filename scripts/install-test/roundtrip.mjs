// Run in the fresh application after roundtrip.cjs: the ES module entries give the same
// instance and the engines' default exports are their plugins (registerEngine takes them).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import core, { open, registerEngine, CONTRACT_VERSION } from '@pmemkv/core';
import cmap from '@pmemkv/engine-cmap';
import { plugin as tree3 } from '@pmemkv/engine-tree3';
import memtree from 'pmemkv-engine-memtree';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
assert.equal(core.open, open, 'the ESM and CJS entries of core are one instance');
assert.equal(require('@pmemkv/engine-cmap').default, cmap, 'the ESM and CJS entries of cmap are one instance');
for (const plugin of [cmap, tree3, memtree]) {
  assert.equal(plugin.contractVersion, CONTRACT_VERSION);
  registerEngine(plugin);
}
assert.equal(cmap.name, 'cmap');
assert.equal(tree3.name, 'tree3');

const [dir] = process.argv.slice(2);
for (const engine of ['cmap', 'tree3']) {
  const db = open(engine, { path: join(dir, `${engine}.kv`), size: 32 * 1024 * 1024, create_if_missing: 1 });
  assert.equal(db.get(`${engine}-key`), 'written by CommonJS');
  db.close();
}
console.log('roundtrip.mjs: ok');
