// ES module entry: re-exports the CommonJS build, so that `import` and `require` share one
// instance (one engine registry, one PmemkvError class).
import core from '../dist/index.js';

export const {
  open,
  Database,
  Transaction,
  ChainedBatch,
  AsyncChainedBatch,
  DatabasePromises,
  PmemkvError,
  Status,
  registerEngine,
  unregisterEngine,
  findEngine,
  listEngines,
  COMMON_CONFIG_SCHEMA,
  MIN_POOL_SIZE,
  resolveConfig,
  CONTRACT_VERSION,
  ENGINE_NAME_PATTERN,
  blackhole,
} = core;
export default core;
