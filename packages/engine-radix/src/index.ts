/**
 * @pmemkv/engine-radix: the radix engine plugin for @pmemkv/core.
 *
 * radix is a persistent radix tree (path-compressed, nodes of 4/16/48/256 children) in bytewise
 * key order, with every node and every pair in persistent memory: keys and values live inline
 * in the leaf that ends them, and open reads only the root (no rebuild). Sorted, persistent,
 * single-writer: reads run in parallel with each other, a write runs alone (the SDK queues
 * async work per engine, so the async API and worker threads are safe). Every put and remove
 * is one libpmemobj transaction, and a batch or `db.transaction()` is one transaction for all
 * its operations: after a crash each key holds its old or its new value, and a batch is there
 * whole or not at all. The plugin is built from the engine's C++ descriptor (src/radix.h).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('radix', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
