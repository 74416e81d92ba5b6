/**
 * @pmemkv/engine-radix: the radix engine plugin for @pmemkv/core.
 *
 * radix is a persistent radix tree (path-compressed, nodes of 4/16/48/256 children) in bytewise
 * key order, with every node and every pair in persistent memory: keys and values live inline
 * in the leaf that ends them; small nodes and leaves are packed into slabs, and open walks the
 * tree to find them and to recount the keys. Sorted, persistent, single-writer: reads run in
 * parallel with each other, a write runs alone (the SDK queues async work per engine, so the
 * async API and worker threads are safe). A put or remove writes its new records unreachable
 * and makes them reachable with one persisted 8-byte link store; a batch or `db.transaction()`
 * builds copies of the nodes it changes and commits them all with one store of the top link:
 * after a crash each key holds its old or its new value, and a batch is there whole or not at
 * all. The plugin is built from the engine's C++ descriptor (src/radix.h).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('radix', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
