/**
 * Engine discovery by name, in this order:
 *   1. engines registered in this process with `registerEngine(plugin)` (and the built-in blackhole);
 *   2. the package `@pmemkv/engine-<name>`;
 *   3. the third-party convention `pmemkv-engine-<name>`;
 * each package resolved from the application (the current working directory, then the main
 * module's directory) before core's own location, so the application's node_modules decides
 * which engines exist even when core is installed elsewhere or linked.
 *
 * A name outside ENGINE_NAME_PATTERN is refused before any resolution, so a name can never
 * reach `require` as a path ("../x") or a scope ("@evil/x").
 *
 * A name nothing provides is WRONG_ENGINE_NAME: for one of this project's engines (engines/known.ts)
 * the message names its package to install; for any other name it suggests the nearest installed
 * or registered engine and says where engines come from, and never makes up a package name.
 *
 * pmemkv's former names (engines/known.ts LEGACY_ALIASES: kvtree3, btree, vsmap) resolve to the
 * current engine, with a DeprecationWarning naming it, emitted once per alias per process.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { nearestKey } from './config';
import { CONTRACT_VERSION, ENGINE_NAME_PATTERN, type EnginePlugin, type ThreadModel } from './contract';
import { blackhole } from './engines/blackhole';
import { KNOWN_ENGINES, LEGACY_ALIASES } from './engines/known';
import { PmemkvError } from './errors';

const warnedAliases = new Set<string>();
const registered = new Map<string, EnginePlugin>([[blackhole.name, blackhole]]);
const loaded = new Map<string, EnginePlugin>();

const PACKAGE_PREFIXES = ['@pmemkv/engine-', 'pmemkv-engine-'] as const;
const THREAD_MODELS: readonly ThreadModel[] = ['thread-safe', 'single-writer', 'serialized'];

/** Directories packages are resolved from, application first. */
function resolutionBases(): string[] {
  const bases = [process.cwd()];
  const main = require.main?.filename;
  if (main) bases.push(dirname(main));
  bases.push(__dirname);
  return [...new Set(bases.map((b) => resolve(b)))];
}

function checkPlugin(plugin: unknown, source: string, expectedName?: string): EnginePlugin {
  if (plugin === null || typeof plugin !== 'object') {
    throw new PmemkvError('WRONG_ENGINE_NAME', `${source} does not export an engine plugin (expected an object as its default export)`);
  }
  const p = plugin as Partial<EnginePlugin>;
  if (typeof p.name !== 'string' || !ENGINE_NAME_PATTERN.test(p.name)) {
    throw new PmemkvError('INVALID_ARGUMENT', `${source}: plugin name ${JSON.stringify(p.name)} must match ${ENGINE_NAME_PATTERN}`);
  }
  if (p.contractVersion !== CONTRACT_VERSION) {
    throw new PmemkvError(
      'NOT_SUPPORTED',
      `${source} implements engine contract version ${String(p.contractVersion)}, but @pmemkv/core implements version ${CONTRACT_VERSION}: install versions of the engine and of @pmemkv/core built for the same contract`,
    );
  }
  if (expectedName !== undefined && p.name !== expectedName) {
    throw new PmemkvError('WRONG_ENGINE_NAME', `${source} provides the engine '${p.name}', not '${expectedName}'`);
  }
  if (typeof p.open !== 'function' || typeof p.capabilities !== 'object' || p.capabilities === null || typeof p.configSchema !== 'object') {
    throw new PmemkvError('INVALID_ARGUMENT', `${source}: an engine plugin needs open(), capabilities and configSchema`);
  }
  if (p.threadModel !== undefined && !THREAD_MODELS.includes(p.threadModel)) {
    throw new PmemkvError('INVALID_ARGUMENT', `${source}: threadModel is ${show(p.threadModel)}; it must be one of ${THREAD_MODELS.map((m) => `'${m}'`).join(', ')}`);
  }
  if (p.layout !== undefined) {
    const layout = p.layout as { name?: unknown; version?: unknown } | null;
    if (layout === null || typeof layout !== 'object' || typeof layout.name !== 'string' || layout.name === ''
        || typeof layout.version !== 'number' || !Number.isSafeInteger(layout.version) || layout.version < 0) {
      throw new PmemkvError('INVALID_ARGUMENT', `${source}: layout is ${show(p.layout)}; it must be { name: string, version: integer >= 0 }`);
    }
  }
  const sync = (p.capabilities as { sync?: unknown }).sync;
  if (sync !== undefined && typeof sync !== 'boolean') {
    throw new PmemkvError('INVALID_ARGUMENT', `${source}: capabilities.sync is ${show(sync)}; it must be a boolean (false for an async-only engine)`);
  }
  return p as EnginePlugin;
}

/** A plugin field's value as messages show it. */
function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** How messages name a plugin given to registerEngine. */
function describePlugin(plugin: unknown): string {
  const { name, packageName } = (plugin ?? {}) as { name?: unknown; packageName?: unknown };
  return `plugin '${String(name)}'${typeof packageName === 'string' ? ` (package ${packageName})` : ''}`;
}

/** Makes `plugin` available to `open(plugin.name, ...)` in this process; it wins over installed packages. */
export function registerEngine(plugin: EnginePlugin): void {
  const checked = checkPlugin(plugin, describePlugin(plugin));
  registered.set(checked.name, checked);
  loaded.delete(checked.name);
}

/** Removes an engine registered with `registerEngine` (the built-in blackhole stays). */
export function unregisterEngine(name: string): boolean {
  if (name === blackhole.name) return false;
  return registered.delete(name);
}

function resolvePackage(pkg: string): string | undefined {
  for (const base of resolutionBases()) {
    try {
      return createRequire(join(base, 'noop.js')).resolve(pkg);
    } catch (err) {
      if ((err as { code?: string }).code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  return undefined;
}

/**
 * The plugin for `name`.
 * @throws PmemkvError WRONG_ENGINE_NAME when nothing provides it (the message lists installed engines),
 *   NOT_SUPPORTED when the plugin implements another contract version.
 */
export function findEngine(name: unknown): EnginePlugin {
  if (typeof name !== 'string' || !ENGINE_NAME_PATTERN.test(name)) {
    throw new PmemkvError('WRONG_ENGINE_NAME', `${JSON.stringify(name)} is not an engine name: names match ${ENGINE_NAME_PATTERN} (e.g. 'cmap')`);
  }
  const alias = LEGACY_ALIASES.get(name);
  if (alias !== undefined) return findAliased(name, alias.engine, alias.warningCode);
  const known = registered.get(name) ?? loaded.get(name);
  if (known) return known;
  for (const prefix of PACKAGE_PREFIXES) {
    const pkg = prefix + name;
    const file = resolvePackage(pkg);
    if (file === undefined) continue;
    let mod: unknown;
    try {
      mod = require(file);
    } catch (err) {
      // An engine's own load error (a missing libpmemobj, say) already says what to do.
      if (err instanceof PmemkvError) throw err;
      throw new PmemkvError('UNKNOWN_ERROR', `the engine package ${pkg} is installed but failed to load (${(err as Error).message}); reinstall it, or build it from source with \`npx node-gyp rebuild\` in its folder`, { cause: err });
    }
    const m = mod as { default?: unknown; plugin?: unknown };
    const plugin = checkPlugin(m.default ?? m.plugin ?? mod, `the package ${pkg}`, name);
    loaded.set(name, plugin);
    return plugin;
  }
  const installed = listEngines();
  if (installed.includes(name)) {
    throw new PmemkvError(
      'WRONG_ENGINE_NAME',
      `the engine '${name}' has a package folder in node_modules but no loadable entry point: build it (pnpm run build in its folder) or reinstall it`,
    );
  }
  throw notFound(name, installed);
}

/** The engine a legacy alias stands for; warns once per alias per process. */
function findAliased(alias: string, current: string, warningCode: string): EnginePlugin {
  if (!warnedAliases.has(alias)) {
    warnedAliases.add(alias);
    process.emitWarning(`the engine name '${alias}' is pmemkv's former name of '${current}' and is deprecated: open '${current}' instead`, {
      type: 'DeprecationWarning',
      code: warningCode,
    });
  }
  try {
    return findEngine(current);
  } catch (err) {
    if (err instanceof PmemkvError && err.code === 'WRONG_ENGINE_NAME') {
      throw new PmemkvError('WRONG_ENGINE_NAME', `'${alias}' is pmemkv's former name of '${current}': ${err.message}`);
    }
    throw err;
  }
}

/** The error for a name nothing provides. `installed` lists what `open` can find. */
function notFound(name: string, installed: readonly string[]): PmemkvError {
  const list = installed.join(', ');
  const known = KNOWN_ENGINES.get(name);
  if (known !== undefined && known.builtIn !== true) {
    return new PmemkvError('WRONG_ENGINE_NAME', `the '${name}' engine is not installed: install it with \`npm install ${known.packageName}\` (installed engines: ${list})`);
  }
  const parts = [`unknown engine '${name}'.`];
  const near = nearestKey(name, installed);
  if (near !== undefined) {
    parts[0] = `unknown engine '${name}': did you mean '${near}'?`;
  } else {
    const nearKnown = nearestKey(name, [...KNOWN_ENGINES.keys()].filter((k) => !installed.includes(k)));
    if (nearKnown !== undefined) {
      parts[0] = `unknown engine '${name}': did you mean '${nearKnown}'?`;
      parts.push(`It is not installed: \`npm install ${KNOWN_ENGINES.get(nearKnown)!.packageName}\`.`);
    }
  }
  const ours = [...KNOWN_ENGINES].filter(([, e]) => e.builtIn !== true).map(([k]) => k);
  parts.push(
    `Installed engines: ${list}.`,
    `Engines come from this project's @pmemkv/engine-<name> packages (${ours.join(', ')}), third-party pmemkv-engine-<name> packages, or registerEngine(plugin) in this process`,
  );
  return new PmemkvError('WRONG_ENGINE_NAME', parts.join(' '));
}

function enginePackagesIn(nodeModules: string, into: Set<string>): void {
  const scoped = join(nodeModules, '@pmemkv');
  if (existsSync(scoped)) {
    for (const entry of readdirSync(scoped)) {
      const m = /^engine-(.+)$/.exec(entry);
      if (m && ENGINE_NAME_PATTERN.test(m[1]!)) into.add(m[1]!);
    }
  }
  if (existsSync(nodeModules)) {
    for (const entry of readdirSync(nodeModules)) {
      const m = /^pmemkv-engine-(.+)$/.exec(entry);
      if (m && ENGINE_NAME_PATTERN.test(m[1]!)) into.add(m[1]!);
    }
  }
}

/** Names of the engines `open` can find: registered ones, the built-in blackhole, and installed packages. */
export function listEngines(): string[] {
  const names = new Set<string>([...registered.keys(), ...loaded.keys()]);
  for (const base of resolutionBases()) {
    for (let dir = base; ; dir = dirname(dir)) {
      enginePackagesIn(join(dir, 'node_modules'), names);
      if (dirname(dir) === dir) break;
    }
  }
  return [...names].sort();
}
