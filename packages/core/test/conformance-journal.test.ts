/**
 * The conformance suite on the persistent journal test engine, including the groups only
 * persistent engines run: the config error matrix for pools, reopen-and-verify, a full pool,
 * and the SIGKILL crash test (whose children load the engine from a transpiled copy).
 */
import { afterAll } from '@jest/globals';
import { makeTempDir, removeTempDir, runConformanceSuite } from '../src/conformance';
import { journalPluginModule } from './support/compile-for-child';
import { journalPlugin } from './support/journal-engine';

const childDir = makeTempDir('journal-child');
afterAll(() => removeTempDir(childDir));

runConformanceSuite({
  engine: 'journal',
  plugin: journalPlugin,
  pluginModule: journalPluginModule(childDir, 'journal-plugin'),
  config: (path) => ({ path, size: 16 * 1024 * 1024, create_if_missing: 1 }),
});
