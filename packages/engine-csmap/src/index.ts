/**
 * @pmemkv/engine-csmap: the csmap engine plugin for @pmemkv/core.
 *
 * csmap is a persistent, concurrent, sorted map: immutable key/value records in persistent
 * memory, indexed by a DRAM skip list rebuilt on open. Thread-safe: every method runs in
 * parallel from any thread, worker or libuv pool thread (reads take no lock on the structure;
 * writes lock only the nodes around their key). Keys are ordered by the `comparator` stored in
 * the pool (bytewise by default, or reverse-bytewise). Every put and remove is one atomic
 * publish, and a batch is one publish for all its operations: after a crash each key holds its
 * old or its new value, and a batch is there whole or not at all.
 * The plugin is built from the engine's C++ descriptor (src/csmap.h).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('csmap', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
