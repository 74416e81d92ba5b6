/**
 * @pmemkv/engine-vcmap: the `vcmap` engine, a volatile concurrent hash map (unsorted).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('vcmap', { name: 'cache' });               // DRAM, shared by name
 *   const big = open('vcmap', { path: '/mnt/pmem', size: 2 ** 36 }); // a temporary heap file there
 *
 * Nothing survives close: each open of a new instance starts empty. Opens with the same `path`
 * (a directory) and `name` share one instance in the process, worker threads included; it is
 * freed when its last handle closes. Thread-safe without a global lock (256 shards, each with
 * its own lock): async operations and workers run in parallel. Walks read whole shards, in
 * bounded chunks. The plugin is built from the engine's C++ descriptor (src/vcmap.h).
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
