/**
 * @pmemkv/core: the common API of pmemkv for Node.js.
 *
 *   import { open } from '@pmemkv/core';
 *   using db = open('cmap', { path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 });
 *   db.put('key', 'value');
 */
export { open, type OpenOptions } from './open';
export { AsyncChainedBatch, ChainedBatch, Transaction } from './transaction';
export { Database, DatabasePromises, type BatchOperation, type EntryCallback, type IterateOptions } from './database';
export { PmemkvError, Status, type ErrorCode, type StatusName } from './errors';
export { registerEngine, unregisterEngine, findEngine, listEngines } from './discovery';
export { COMMON_CONFIG_SCHEMA, MIN_POOL_SIZE, resolveConfig, type ConfigInput } from './config';
export type { KeyEncodingName, ValueEncodingName, KeyEncoding, ValueEncoding, CustomEncoding, BytesInput } from './encodings';
export {
  CONTRACT_VERSION,
  ENGINE_NAME_PATTERN,
  type AsyncEngineHandle,
  type BatchOp,
  type Bytes,
  type Capabilities,
  type ConfigKeySchema,
  type ConfigSchema,
  type EngineConfig,
  type EngineHandle,
  type EnginePlugin,
  type KeyRange,
  type ThreadModel,
  type UnorderedChunk,
} from './contract';
export { blackhole } from './engines/blackhole';
