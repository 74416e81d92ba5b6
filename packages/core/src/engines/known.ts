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
// a one-time DeprecationWarning (`kvtree3` -> tree3, `btree` -> stree, `vsmap` -> vmap). Their
// table belongs here, beside KNOWN_ENGINES, and discovery resolves an alias before the
// registered engines. Not implemented yet: until then an alias is an unknown name.
// ---------------------------------------------------------------------------------------------
