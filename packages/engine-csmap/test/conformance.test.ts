// Core's conformance suite for csmap: the whole public contract, the sorted groups (ranges,
// reverse iteration), persistence across reopen, capacity, batches and transactions, and the
// SIGKILL crash test.
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';

runConformanceSuite({
  engine: 'csmap',
  plugin,
  pluginModule: require.resolve('../dist/index.js'),
  config: (poolPath) => ({ path: poolPath, size: 64 * 1024 * 1024, create_if_missing: 1 }),
});
