/**
 * The conformance suite on the built-in blackhole engine (found by name), with the sink
 * expectations: it accepts everything and keeps nothing.
 */
import { runConformanceSuite } from '../src/conformance';

runConformanceSuite({ engine: 'blackhole', behaviour: 'sink', config: () => ({}) });
