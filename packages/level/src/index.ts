/**
 * pmemkv-level: an abstract-level database over pmemkv's sorted engines.
 *
 *   import { PmemkvLevel } from 'pmemkv-level';
 *   const db = new PmemkvLevel('/dev/shm/app.pool', { engine: 'tree3', size: 64 * 2 ** 20 });
 */
export { PmemkvLevel, type PmemkvLevelOptions, type PmemkvManifest } from './pmemkv-level';
export { PmemkvIterator, PmemkvKeyIterator, PmemkvValueIterator } from './iterators';
export { DEFAULT_ENGINE } from './options';
