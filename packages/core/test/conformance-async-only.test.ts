/**
 * The conformance suite on async-only engines (`capabilities.sync` false, like a remote store):
 * lifecycle, the gate refusing every sync method, config errors and the promises twins run;
 * the groups that drive sync methods are listed as skipped. Once on an unsorted engine (walks
 * through async scanUnordered), once on a sorted one (every async range variant against the
 * model).
 */
import { runConformanceSuite } from '../src/conformance';
import { createHashPlugin } from './support/hash-engine';
import { createMemoryPlugin } from './support/memory-engine';

runConformanceSuite({ engine: 'remote', plugin: createHashPlugin({ asyncOnly: true }), config: () => ({}) });
runConformanceSuite({ engine: 'remote-sorted', plugin: createMemoryPlugin({ name: 'remote-sorted', capabilities: { sync: false } }), config: () => ({}) });
