// Core's conformance suite for caching in front of a real memcached, with vcmap (volatile) as
// the local tier; per-test key_prefix as in conformance.test.ts.
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';
import { useServer } from './servers';

const memcached = useServer('memcached');

runConformanceSuite({
  engine: 'caching',
  plugin,
  config: (poolPath) => ({
    remote_type: 'memcached',
    port: memcached.port,
    key_prefix: `${poolPath}:`,
    subengine: 'vcmap',
    subengine_config: {},
  }),
});
