/**
 * @pmemkv/engine-caching: the caching engine. A local pmemkv engine (the sub-engine) keeps
 * copies of the entries of a Redis or Memcached server: reads are answered locally when a fresh
 * copy is there and read through the remote otherwise; writes go to the remote first and then to
 * the local copy. Async only (`db.promises`).
 *
 *   import { open } from '@pmemkv/core';
 *   const db = open('caching', { remote_type: 'redis', port: 6379, subengine: 'vcmap' });
 *   await db.promises.put('key', 'value');
 *
 * Durability is the remote's: a write is acknowledged once the remote has acknowledged it and the
 * local copy is written. The local copies survive a restart when the sub-engine is persistent.
 */
import { CONTRACT_VERSION, type EngineConfig, type EngineHandle, type EnginePlugin } from '@pmemkv/core';
import { CONFIG_SCHEMA, readOptions } from './config';
import { CachingHandle } from './handle';
import { MemcachedRemote } from './memcached-remote';
import { RedisRemote } from './redis-remote';
import type { Remote } from './remote';
import { openSubengine } from './subengine';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../package.json') as { version: string };

function openCaching(config: EngineConfig): EngineHandle {
  const options = readOptions(config);
  const local = openSubengine(options);
  let remote: Remote;
  try {
    remote = options.remoteType === 'redis' ? new RedisRemote(options) : new MemcachedRemote(options);
  } catch (err) {
    local.close();
    throw err;
  }
  return new CachingHandle(local, remote, options);
}

export const plugin: EnginePlugin = {
  name: 'caching',
  contractVersion: CONTRACT_VERSION,
  packageName: '@pmemkv/engine-caching',
  version,
  threadModel: 'thread-safe',
  capabilities: {
    // The engine keeps no pool of its own: the remote holds the data, and the local copies
    // persist exactly when the sub-engine does.
    persistent: false,
    concurrent: true,
    sorted: false,
    iterators: false,
    reverse: false,
    transactions: false,
    defrag: false,
    sync: false,
  },
  configSchema: CONFIG_SCHEMA,
  open: openCaching,
};

export default plugin;
