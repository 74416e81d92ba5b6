/**
 * @pmemkv/engine-vmap: the `vmap` engine, a volatile sorted map (bytewise key order).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('vmap', { size: 256 << 20 });             // DRAM, at most 256 MiB
 *   const big = open('vmap', { path: '/mnt/pmem', size: 2 ** 36 }); // a temporary heap file there
 *
 * Nothing survives close: each open of a new instance starts empty. Opens with the same `path`
 * (a directory) and `name` share one instance in the process, worker threads included; it is
 * freed when its last handle closes. Single-writer: reads run in parallel, a write runs alone.
 * The plugin is built from the engine's C++ descriptor (src/vmap.h).
 */
import { join } from 'node:path';
import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';

export const plugin = nativeEngine(join(__dirname, '..'));
export default plugin;
