/**
 * @pmemkv/engine-cmap: the `cmap` engine, a persistent concurrent hash map on libpmemobj.
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('cmap', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 *
 * Unsorted: only full-range counts and walks (in the table's own order, read in bounded
 * chunks). Thread-safe: handles on the same path (from worker threads too) share one engine,
 * and async operations run in parallel. Every put and remove is durable when it returns.
 * The plugin is built from the engine's C++ descriptor (src/cmap.h).
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
