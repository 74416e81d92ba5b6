/**
 * @pmemkv/engine-stree: the stree engine plugin for @pmemkv/core.
 *
 * stree is a persistent B+ tree with every node in persistent memory: inner nodes of 31
 * separators (the first 16 bytes of each inline), leaves of 32 slots with 1-byte fingerprints
 * and a persistent order array, linked both ways; pairs up to 1 KiB are records packed in
 * slabs. Opening a pool reads its root, the root node and one header per slab, so a reopen is
 * near-instant and needs no DRAM index. Sorted (a `comparator` config key, stored in the
 * pool), persistent, single-writer: reads run in parallel with each other; a write runs alone
 * (the SDK queues async work per engine, so the async API and worker threads are safe).
 * A common put or remove is one commit of the engine's journal (no libpmemobj transaction);
 * splits, merges and large pairs are libpmemobj transactions; a batch is one journal commit
 * (or one transaction): after a crash each key holds its old or its new value, and a batch is
 * there whole or not at all.
 * The plugin is built from the engine's C++ descriptor (src/stree.h).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('stree', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
