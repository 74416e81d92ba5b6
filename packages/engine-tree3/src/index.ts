/**
 * @pmemkv/engine-tree3: the tree3 engine plugin for @pmemkv/core.
 *
 * tree3 is a hybrid B+ tree: leaves of 48 slots in persistent memory (1-byte fingerprints, one
 * buffer per pair), inner nodes in DRAM rebuilt from the leaves on open. Sorted, persistent,
 * not thread-safe (the native glue serializes calls, so the async API and worker threads are
 * safe). Every put and remove is one libpmemobj transaction: after a crash each key holds its
 * old or its new value.
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('tree3', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 */
import path from 'node:path';
import type { EngineConfig, EngineHandle, EnginePlugin } from '@pmemkv/core';

interface Tree3Addon {
  open(config: EngineConfig): EngineHandle;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const addon = require('node-gyp-build')(path.join(__dirname, '..')) as Tree3Addon;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../package.json') as { name: string; version: string };

export const plugin: EnginePlugin = {
  name: 'tree3',
  // The contract this engine was built for (a literal on purpose: core checks it against its own).
  contractVersion: 1,
  capabilities: {
    persistent: true,
    concurrent: false,
    sorted: true,
    iterators: true,
    reverse: true,
    transactions: false,
    defrag: false,
    // Keys and values over 4 GiB - 1 bytes (their sizes are stored as u32) are refused by the
    // engine with INVALID_ARGUMENT; below that, only the pool bounds them.
  },
  configSchema: { type: 'object', properties: {} },
  packageName: pkg.name,
  version: pkg.version,
  open: (config) => addon.open(config),
};

export default plugin;
