/**
 * The conformance suite on the in-memory sorted test engine: every group a volatile, sorted,
 * transactional engine with iterators, reverse and defrag runs.
 */
import { runConformanceSuite } from '../src/conformance';
import { memoryPlugin } from './support/memory-engine';

runConformanceSuite({ engine: 'memory', plugin: memoryPlugin, config: () => ({}) });
