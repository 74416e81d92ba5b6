// Core's conformance suite for stree: the whole public contract, the sorted groups (ranges
// with every bound, reverse iteration), persistence across reopen, capacity and OOM, batches
// and transactions, worker threads and the SIGKILL crash test.
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';

runConformanceSuite({
  engine: 'stree',
  plugin,
  pluginModule: require.resolve('../dist/index.js'),
  // 128 MiB: the crash test's values span many libpmemobj allocation classes (empty to 70 KiB),
  // and each class keeps a run of its own: in 64 MiB those runs alone can fill the heap.
  config: (poolPath) => ({ path: poolPath, size: 128 * 1024 * 1024, create_if_missing: 1 }),
});
