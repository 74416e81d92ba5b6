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
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { CONTRACT_VERSION, ENGINE_NAME_PATTERN, type EnginePlugin } from './contract';
import { blackhole } from './engines/blackhole';
import { PmemkvError } from './errors';

const registered = new Map<string, EnginePlugin>([[blackhole.name, blackhole]]);
const loaded = new Map<string, EnginePlugin>();

const PACKAGE_PREFIXES = ['@pmemkv/engine-', 'pmemkv-engine-'] as const;

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
  return p as EnginePlugin;
}

/** Makes `plugin` available to `open(plugin.name, ...)` in this process; it wins over installed packages. */
export function registerEngine(plugin: EnginePlugin): void {
  const checked = checkPlugin(plugin, `plugin '${(plugin as { name?: unknown })?.name}'`);
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
  throw new PmemkvError(
    'WRONG_ENGINE_NAME',
    `unknown engine '${name}': installed engines are ${installed.join(', ')}; install @pmemkv/engine-${name} (or pmemkv-engine-${name}) or register it with registerEngine()`,
  );
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
