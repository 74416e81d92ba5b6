/**
 * Engine discovery: every package directory `packages/engine-*` (or PMEMKV_ENGINES_DIR/engine-*)
 * is a candidate. Its package.json is read, its directory is required by absolute path (its
 * `main`, i.e. the built dist/), its default export is taken as the plugin and registered with
 * core. No engine is a dependency of this package, so engines added later are covered without
 * editing anything here.
 *
 * A package whose module or addon does not load is kept as a `broken` entry, so that a campaign
 * reports it as a failure naming it. An async-only engine (capabilities.sync === false) is kept
 * as `excluded`: the campaigns drive the sync API.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { registerEngine, type EnginePlugin } from '@pmemkv/core';

export interface LoadedEngine {
  readonly kind: 'loaded';
  readonly name: string;
  readonly packageDir: string;
  readonly plugin: EnginePlugin;
}

export interface UnusableEngine {
  readonly kind: 'broken' | 'excluded';
  /** The engine name when known, else the package directory's name. */
  readonly name: string;
  readonly packageDir: string;
  readonly reason: string;
}

export type DiscoveredEngine = LoadedEngine | UnusableEngine;

/** The directory holding the engine-* packages. */
export function enginesRoot(): string {
  const fromEnv = process.env.PMEMKV_ENGINES_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  // dist/engines.js (or src/engines.ts under jest) -> packages/reliability -> packages
  return resolve(__dirname, '..', '..');
}

/** Requires the package in `packageDir` and returns its plugin (default export). @throws Error when it does not load. */
export function loadPlugin(packageDir: string): EnginePlugin {
  const mod = require(packageDir) as { default?: EnginePlugin; plugin?: EnginePlugin };
  const plugin = mod.default ?? mod.plugin;
  if (plugin === undefined || plugin === null || typeof plugin !== 'object' || typeof plugin.name !== 'string') {
    throw new Error('its module has no default export that is an engine plugin');
  }
  return plugin;
}

/** Loads and registers the plugin in `packageDir` (for child processes). */
export function registerFrom(packageDir: string): EnginePlugin {
  const plugin = loadPlugin(packageDir);
  registerEngine(plugin);
  return plugin;
}

function shortError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

/**
 * Every engine package under enginesRoot(), in name order, restricted to `only` when given
 * (matching the engine name or the directory name without `engine-`).
 */
export function discoverEngines(only?: readonly string[]): DiscoveredEngine[] {
  const root = enginesRoot();
  const out: DiscoveredEngine[] = [];
  for (const dir of readdirSync(root).filter((d) => d.startsWith('engine-')).sort()) {
    const packageDir = join(root, dir);
    const short = dir.slice('engine-'.length);
    if (only !== undefined && !only.includes(short)) continue;
    if (!existsSync(join(packageDir, 'package.json'))) continue;
    let packageName = dir;
    try {
      packageName = (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name?: string }).name ?? dir;
    } catch (err) {
      out.push({ kind: 'broken', name: short, packageDir, reason: `its package.json does not parse: ${shortError(err)}` });
      continue;
    }
    let plugin: EnginePlugin;
    try {
      plugin = loadPlugin(packageDir);
    } catch (err) {
      out.push({ kind: 'broken', name: short, packageDir, reason: `${packageName} does not load (build it first): ${shortError(err)}` });
      continue;
    }
    if (plugin.capabilities.sync === false) {
      out.push({ kind: 'excluded', name: plugin.name, packageDir, reason: 'async-only (capabilities.sync is false): the campaigns drive the sync API' });
      continue;
    }
    try {
      registerEngine(plugin);
    } catch (err) {
      out.push({ kind: 'broken', name: plugin.name, packageDir, reason: `core refuses its plugin: ${shortError(err)}` });
      continue;
    }
    out.push({ kind: 'loaded', name: plugin.name, packageDir, plugin });
  }
  if (only !== undefined) {
    for (const name of only) {
      if (!out.some((e) => e.name === name || e.packageDir.endsWith(`engine-${name}`))) {
        out.push({ kind: 'broken', name, packageDir: join(root, `engine-${name}`), reason: `no package engine-${name} under ${root}` });
      }
    }
  }
  return out;
}

/** The config that creates a fresh pool (persistent) or an instance (volatile) for campaigns. */
export function baseConfig(plugin: EnginePlugin, path: string, size: number): Record<string, unknown> {
  return plugin.capabilities.persistent ? { path, size, create_if_missing: 1 } : {};
}
