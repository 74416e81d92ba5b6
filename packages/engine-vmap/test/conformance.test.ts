// Core's conformance suite for vmap: the whole public contract for a volatile sorted engine
// (ranges, both directions); the persistent groups listed as skipped; reopen finds nothing; and
// the placement group: size limit, file-backed heap in a directory, worker threads sharing one
// instance by path and by name.
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';

runConformanceSuite({
  engine: 'vmap',
  plugin,
  pluginModule: require.resolve('../dist/index.js'),
  config: () => ({}),
  volatilePlacement: { shareKey: 'name' },
});
