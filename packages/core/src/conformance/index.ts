/**
 * @pmemkv/core/conformance: the engine conformance suite. Every engine package runs it; a
 * third-party engine can too. It registers jest tests (from '@jest/globals') that check the whole
 * public contract through core's `open`, choosing its groups from the engine's capabilities:
 *
 *   import { runConformanceSuite } from '@pmemkv/core/conformance';
 *   import plugin from '../src';
 *   runConformanceSuite({
 *     engine: 'cmap',
 *     plugin,
 *     pluginModule: require.resolve('../dist/index.js'),
 *     config: (path) => ({ path, size: 32 * 1024 * 1024, create_if_missing: 1 }),
 *   });
 *
 * Groups: point operations, binary safety, batch, walk callbacks, encodings, promises twins,
 * argument checking, lifecycle (use after close, Symbol.dispose), capability gates
 * (NOT_SUPPORTED), the config error matrix, and by capability: sorted ranges and iteration
 * against a reference model (sorted), unsorted iteration (iterators), defrag (defrag),
 * persistence, capacity, crash consistency, files that are not pools and mixed-size churn
 * (persistent; a volatile engine lists them as skipped with the reason, checks that a reopen
 * finds nothing and, with `volatilePlacement`, runs the placement group of volatile.ts); or,
 * for `behaviour: 'sink'` engines, the sink expectations instead of the data
 * groups.
 *
 * Async-only engines (`capabilities.sync` false) run lifecycle, capability gates (their sync
 * methods refused), config errors and the promises twins, which then check every result against
 * the reference model; every other group drives the sync methods and is listed as skipped, with
 * the reason in its describe block's name.
 *
 * Pools live in a fresh temporary directory per test (under PMEMKV_TEST_DIR, else /dev/shm, else
 * the OS temp dir), removed after the test. Randomized tests print their seed on failure; set
 * PMEMKV_CONFORMANCE_SEED to replay it.
 */
import { describe, test } from '@jest/globals';
import { isAbsolute } from 'node:path';
import { findEngine, registerEngine } from '../index';
import { argumentChecks } from './arguments';
import { batch } from './batch';
import { binary } from './binary';
import { callbacks } from './callbacks';
import { capacity } from './capacity';
import { configErrors } from './config-errors';
import { churn } from './churn';
import { crash } from './crash';
import { defrag } from './defrag';
import { encodings } from './encodings';
import { files } from './files';
import { gates, hasGates } from './gates';
import { iteration } from './iteration';
import { lifecycle } from './lifecycle';
import type { ConformanceOptions } from './options';
import { persistence } from './persistence';
import { getMany } from './get-many';
import { getResults } from './get-results';
import { pointOps } from './point-ops';
import { promises } from './promises';
import { baseSeed } from './random';
import { ranges } from './ranges';
import { sink } from './sink';
import { transactions } from './transactions';
import { Suite } from './suite';
import { PERSISTENT_GROUPS, volatilePlacement } from './volatile';

export type { Behaviour, ConformanceOptions } from './options';
export { SortedModel, showBytes, showEntries, showKeys, type Entry, type ModelRange } from './model';
export { Random } from './random';
export { runAndKill, type KilledChildRun } from './kill-child';
export { makeTempDir, removeTempDir, tempBase } from './temp';

function checkOptions(options: ConformanceOptions): void {
  if (options === null || typeof options !== 'object') throw new TypeError('runConformanceSuite needs an options object');
  if (typeof options.engine !== 'string') throw new TypeError('runConformanceSuite: `engine` must be the engine name');
  if (typeof options.config !== 'function') throw new TypeError('runConformanceSuite: `config` must be a function (poolPath) => config');
  if (options.reopenConfig !== undefined && typeof options.reopenConfig !== 'function') {
    throw new TypeError('runConformanceSuite: `reopenConfig` must be a function (poolPath) => config');
  }
  if (options.plugin !== undefined && options.plugin.name !== options.engine) {
    throw new TypeError(`runConformanceSuite: the plugin is named '${options.plugin.name}', not '${options.engine}'`);
  }
  if (options.scale !== undefined && !(typeof options.scale === 'number' && options.scale > 0)) {
    throw new TypeError('runConformanceSuite: `scale` must be a positive number');
  }
  if (options.behaviour !== undefined && options.behaviour !== 'store' && options.behaviour !== 'sink') {
    throw new TypeError("runConformanceSuite: `behaviour` must be 'store' or 'sink'");
  }
  const placement = options.volatilePlacement;
  if (placement !== undefined && (placement === null || typeof placement !== 'object' || (placement.shareKey !== undefined && typeof placement.shareKey !== 'string'))) {
    throw new TypeError('runConformanceSuite: `volatilePlacement` must be { shareKey?: string }');
  }
  if (options.pluginModule !== undefined && (typeof options.pluginModule !== 'string' || !isAbsolute(options.pluginModule))) {
    throw new TypeError('runConformanceSuite: `pluginModule` must be an absolute path');
  }
}

/** The groups an async-only engine does not run (those its capabilities would otherwise select). */
function asyncOnlySkips(s: Suite): string[] {
  const c = s.caps;
  const groups = ['argument checking', c.persistent ? 'persistence' : 'volatility'];
  if (s.behaviour === 'sink') return [...groups, 'sink behaviour'];
  groups.push('point operations', 'get results', 'binary safety', 'batch', 'walk callbacks', 'encodings');
  if (c.sorted) groups.push('sorted ranges', 'sorted iteration');
  else if (c.iterators) groups.push('unsorted iteration');
  if (c.defrag) groups.push('defrag');
  if (c.persistent) groups.push('capacity', 'crash consistency');
  return groups;
}

/** Lists `groups` as skipped tests under a describe block named for the reason, so reports show them. */
function skipped(reason: string, groups: readonly string[]): void {
  describe(reason, () => {
    for (const group of groups) test.skip(group, () => {});
  });
}

/**
 * Registers the conformance tests for `options.engine` in the current jest test file. Call it
 * at the top level of a test file (or inside a describe block).
 * @throws TypeError on malformed options; PmemkvError when the engine cannot be found.
 */
export function runConformanceSuite(options: ConformanceOptions): void {
  checkOptions(options);
  if (options.plugin !== undefined) registerEngine(options.plugin);
  const s = new Suite(options, (options.plugin ?? findEngine(options.engine)).capabilities, baseSeed());
  const caps = s.caps;

  describe(`conformance: ${s.engine}`, () => {
    if (!caps.sync) {
      lifecycle(s);
      configErrors(s);
      gates(s);
      promises(s);
      skipped('skipped: the engine is async-only (capabilities.sync is false) and these groups drive the sync methods', asyncOnlySkips(s));
      return;
    }
    lifecycle(s);
    argumentChecks(s);
    configErrors(s);
    if (hasGates(s)) gates(s);
    persistence(s);
    if (s.behaviour === 'sink') {
      sink(s);
      return;
    }
    pointOps(s);
    getResults(s);
    getMany(s);
    binary(s);
    batch(s);
    transactions(s);
    callbacks(s);
    encodings(s);
    promises(s);
    if (caps.sorted) ranges(s);
    iteration(s);
    if (caps.defrag) defrag(s);
    if (caps.persistent) {
      capacity(s);
      crash(s);
      files(s);
      churn(s);
    } else {
      volatilePlacement(s);
      skipped('skipped: the engine is not persistent (capabilities.persistent is false): nothing survives close, so there is no pool to reopen, fill, crash or refuse', PERSISTENT_GROUPS);
    }
  });
}
