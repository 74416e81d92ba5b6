/**
 * @pmemkv/engine-cmap: the `cmap` engine, a persistent concurrent hash map on libpmemobj.
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('cmap', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 *
 * Unsorted: only full-range counts and walks (in the table's own order). Thread-safe: handles
 * on the same path (from worker threads too) share one engine, and async operations run in
 * parallel. Every put and remove is durable when it returns.
 */
import * as path from 'node:path';
import type { EngineConfig, EngineHandle, EnginePlugin } from '@pmemkv/core';

interface Addon {
  open(config: EngineConfig): EngineHandle;
  readonly name: string;
  readonly threadModel: 'thread-safe' | 'serialized';
  livePaths(): string[];
}

const addon = require('node-gyp-build')(path.join(__dirname, '..')) as Addon;
const pkg = require('../package.json') as { name: string; version: string };

export const plugin: EnginePlugin = {
  name: 'cmap',
  // The contract version this engine was built for (a literal on purpose: core compares it).
  contractVersion: 1,
  packageName: pkg.name,
  version: pkg.version,
  capabilities: {
    persistent: true,
    concurrent: true,
    sorted: false,
    iterators: true,
    reverse: false,
    transactions: false,
    defrag: true,
  },
  configSchema: { type: 'object', properties: {} },
  open: (config) => addon.open(config),
};

export default plugin;
