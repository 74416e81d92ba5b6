// Core's conformance suite for vcmap: the whole public contract for a volatile concurrent engine
// (unsorted walks in chunks); the persistent groups listed as skipped; reopen finds nothing; and
// the placement group: size limit, file-backed heap in a directory, worker threads sharing one
// instance by path and by name.
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';

runConformanceSuite({
  engine: 'vcmap',
  plugin,
  pluginModule: require.resolve('../dist/index.js'),
  config: () => ({}),
  volatilePlacement: { shareKey: 'name' },
});
