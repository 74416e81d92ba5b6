// The engine conformance suite of @pmemkv/core, run on cmap (unsorted, concurrent, defrag,
// persistent: point ops, walks, iteration, promises, defrag, capacity, reopen and SIGKILL crash).
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';

runConformanceSuite({
  engine: 'cmap',
  plugin,
  pluginModule: require.resolve('../dist/index.js'),
  // 128 MiB: the crash test writes values of 0 to 70 KB, which touch some 45 libpmemobj
  // allocation classes, and libpmemobj reserves a run of up to 4 MiB per class in use (about
  // 90 MiB in all), so a 64 MiB pool fills before its data does.
  config: (poolPath) => ({ path: poolPath, size: 128 * 1024 * 1024, create_if_missing: 1 }),
});
