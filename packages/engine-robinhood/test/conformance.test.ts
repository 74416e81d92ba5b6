// The engine conformance suite of @pmemkv/core, run on robinhood (unsorted, concurrent,
// persistent, atomic batches, keys and values of exactly 8 bytes: point ops, walks, iteration,
// promises, capacity, reopen and SIGKILL crash).
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';

runConformanceSuite({
  engine: 'robinhood',
  plugin,
  pluginModule: require.resolve('../dist/index.js'),
  config: (poolPath) => ({ path: poolPath, size: 32 * 1024 * 1024, create_if_missing: 1 }),
});
