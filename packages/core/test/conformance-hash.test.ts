/**
 * The conformance suite on the unsorted hash test engine: the groups of a volatile, unsorted,
 * transactional engine with unordered iterators (chunked through scanUnordered), and the gates
 * of everything it lacks (ranges, reverse, defrag).
 */
import { runConformanceSuite } from '../src/conformance';
import { hashPlugin } from './support/hash-engine';

runConformanceSuite({ engine: 'hash', plugin: hashPlugin, config: () => ({}) });
