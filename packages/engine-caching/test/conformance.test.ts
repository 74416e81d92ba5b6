// Core's conformance suite for caching in front of a real redis-server, with cmap as the local
// tier. The suite runs what an async-only engine can run (lifecycle, config errors, capability
// gates, the promises twins against its model); each test's key_prefix is its own pool path, so
// tests sharing the server never see each other's keys.
import { runConformanceSuite } from '@pmemkv/core/conformance';
import plugin from '../src/index';
import { useServer } from './servers';

const redis = useServer('redis');

runConformanceSuite({
  engine: 'caching',
  plugin,
  config: (poolPath) => ({
    remote_type: 'redis',
    port: redis.port,
    key_prefix: `${poolPath}:`,
    subengine: 'cmap',
    subengine_config: { path: poolPath, size: 32 * 1024 * 1024, create_if_missing: 1 },
  }),
});
