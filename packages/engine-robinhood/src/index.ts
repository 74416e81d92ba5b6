/**
 * @pmemkv/engine-robinhood: the `robinhood` engine, a persistent concurrent hash map of 8-byte
 * keys and 8-byte values on libpmemobj (sharded Robin Hood open addressing).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('robinhood', { path: '/dev/shm/my.kv', size: 64 << 20, create_if_missing: 1 });
 *
 * Keys and values are exactly 8 bytes (core refuses other sizes with INVALID_ARGUMENT). Unsorted:
 * only full-range counts and walks (in hash order, read in bounded chunks). Thread-safe: handles
 * on the same path (from worker threads too) share one engine, reads take no lock, and async
 * operations run in parallel. Every put and remove is durable when it returns; batches are
 * atomic. The plugin is built from the engine's C++ descriptor (src/robinhood.h).
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
