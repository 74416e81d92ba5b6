// Core's conformance suite for radix: the whole public contract, the sorted groups (ranges with
// every bound, reverse iteration), persistence across reopen, capacity and OOM, batches and
// transactions, worker threads, and the SIGKILL crash test (batches all or nothing).
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';

runConformanceSuite({
  engine: 'radix',
  plugin,
  pluginModule: require.resolve('../dist/index.js'),
  // 128 MiB: the crash test's values span many allocation classes (empty to 70 KiB), and each
  // class keeps a run of its own.
  config: (poolPath) => ({ path: poolPath, size: 128 * 1024 * 1024, create_if_missing: 1 }),
});
