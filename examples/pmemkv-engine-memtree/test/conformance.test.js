'use strict';
// @pmemkv/core's conformance suite on memtree: the public contract, the sorted groups (ranges,
// reverse iteration, against the reference model) and batches; the persistent groups are listed
// as skipped because memtree is volatile (the suite checks that a reopen finds nothing).
const { runConformanceSuite } = require('@pmemkv/core/conformance');
const plugin = require('..').default;

runConformanceSuite({ engine: 'memtree', plugin, config: () => ({}) });
