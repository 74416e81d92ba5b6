/**
 * The engines of this project, by runtime name, and the package that provides each: the one
 * table discovery uses to tell "not installed" (a known engine: say which package to install)
 * from "unknown" (never invent a package name). Third-party engines are not listed here; they
 * are found by the `pmemkv-engine-<name>` convention or registered with `registerEngine`.
 */

export interface KnownEngine {
  /** The npm package that provides it. */
  readonly packageName: string;
  /** Built into @pmemkv/core: always available, nothing to install. */
  readonly builtIn?: true;
}

export const KNOWN_ENGINES: ReadonlyMap<string, KnownEngine> = new Map<string, KnownEngine>([
  ['blackhole', { packageName: '@pmemkv/core', builtIn: true }],
  ...['cmap', 'tree3', 'csmap', 'stree', 'radix', 'robinhood', 'vmap', 'vcmap', 'caching'].map(
    (name): [string, KnownEngine] => [name, { packageName: `@pmemkv/engine-${name}` }],
  ),
]);

// ---------------------------------------------------------------------------------------------
// Legacy aliases: pmemkv's original engine names, which resolve to this project's engines with
// a one-time DeprecationWarning (`kvtree3` -> tree3, `btree` -> stree, `vsmap` -> vmap).
// Discovery resolves an alias before the registered engines; listEngines() shows current names
// only. Warning codes are stable (tests may match them); messages may change.
// ---------------------------------------------------------------------------------------------

export interface LegacyAlias {
  /** The engine's current name. */
  readonly engine: string;
  /** The `code` of the DeprecationWarning emitted on first use. */
  readonly warningCode: string;
}

export const LEGACY_ALIASES: ReadonlyMap<string, LegacyAlias> = new Map<string, LegacyAlias>([
  ['kvtree3', { engine: 'tree3', warningCode: 'PMEMKV_DEP_KVTREE3' }],
  ['btree', { engine: 'stree', warningCode: 'PMEMKV_DEP_BTREE' }],
  ['vsmap', { engine: 'vmap', warningCode: 'PMEMKV_DEP_VSMAP' }],
]);
