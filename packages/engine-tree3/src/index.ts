/**
 * @pmemkv/engine-tree3: the tree3 engine plugin for @pmemkv/core.
 *
 * tree3 is a hybrid B+ tree: leaves of 48 slots in persistent memory (1-byte fingerprints, one
 * buffer per pair), inner nodes in DRAM rebuilt from the leaves on open. Sorted, persistent,
 * single-writer: reads run in parallel with each other and with a write (the SDK queues async
 * work per engine, so the async API and worker threads are safe). Every put and remove is one
 * libpmemobj transaction, and a batch is one transaction for all its operations: after a crash
 * each key holds its old or its new value, and a batch is there whole or not at all.
 * The plugin is built from the engine's C++ descriptor (src/tree3.h).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('tree3', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
