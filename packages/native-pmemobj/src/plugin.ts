/**
 * @pmemkv/native-pmemobj/plugin: the JS side of a native engine package, written once.
 *
 *   // src/index.ts of an engine package
 *   import { join } from 'node:path';
 *   import { nativeEngine } from '@pmemkv/native-pmemobj/plugin';
 *   export const plugin = nativeEngine(join(__dirname, '..'));
 *   export default plugin;
 *
 * `nativeEngine` loads the package's addon (a prebuild for this platform, or build/Release,
 * through node-gyp-build) and builds the `EnginePlugin` from the descriptor the addon exports
 * (descriptor.h): name, layout, thread model, capabilities and config schema come from the one
 * C++ declaration, `contractVersion` from @pmemkv/core, package name and version from the
 * package's package.json. Nothing about the engine is written twice.
 *
 * @throws PmemkvError NOT_SUPPORTED when the addon was built for another engine contract than
 *   the installed @pmemkv/core implements (both versions and the package are named), or
 *   UNKNOWN_ERROR when the addon cannot be loaded (the message says what to install).
 */
import { join } from 'node:path';
import { CONTRACT_VERSION, PmemkvError, type EngineConfig, type EngineHandle, type EnginePlugin } from '@pmemkv/core';
import type { Capabilities, ConfigSchema, ThreadModel } from '@pmemkv/core';
import { loadFailureMessage } from './addon-load';
import { CHECK_ON_OPEN_KEY, CHECK_ON_OPEN_SCHEMA, checkBeforeOpen } from './check-on-open';

/** What an engine addon built on the SDK exports. */
interface EngineAddon {
  open(config: EngineConfig): EngineHandle;
  livePaths(): string[];
  readonly descriptor: {
    readonly contractVersion: number;
    readonly name: string;
    readonly layout?: { readonly name: string; readonly version: number };
    readonly threadModel: ThreadModel;
    readonly capabilities: Capabilities;
    readonly configSchema: ConfigSchema;
  };
}

/** A native engine's plugin, plus the addon's diagnostics. */
export interface NativeEnginePlugin extends EnginePlugin {
  /** The real paths of the pools this addon holds open now, across all threads (for tests and diagnostics). */
  livePaths(): string[];
}

function loadAddon(packageDir: string, packageName: string): EngineAddon {
  try {
    return require('node-gyp-build')(packageDir) as EngineAddon;
  } catch (err) {
    throw new PmemkvError('UNKNOWN_ERROR', loadFailureMessage(err, packageName), { cause: err });
  }
}

/** The plugin of the native engine package at `packageDir` (the folder holding its package.json). */
export function nativeEngine(packageDir: string): NativeEnginePlugin {
  const pkg = require(join(packageDir, 'package.json')) as { name: string; version: string };
  const addon = loadAddon(packageDir, pkg.name);
  const d = addon.descriptor;
  if (d.contractVersion !== CONTRACT_VERSION) {
    throw new PmemkvError(
      'NOT_SUPPORTED',
      `${pkg.name} ${pkg.version} was built for engine contract version ${d.contractVersion}, but the installed @pmemkv/core implements version ${CONTRACT_VERSION}: install versions of the engine and of @pmemkv/core built for the same contract`,
    );
  }
  // Persistent engines also take `check_on_open` (check-on-open.ts), handled here: the addon
  // never sees it.
  const persistent = d.capabilities.persistent === true;
  const configSchema: ConfigSchema = persistent
    ? { ...d.configSchema, properties: { ...(d.configSchema.properties ?? {}), [CHECK_ON_OPEN_KEY]: CHECK_ON_OPEN_SCHEMA } }
    : d.configSchema;
  const open = (config: EngineConfig): EngineHandle => {
    if (!persistent) return addon.open(config);
    const { [CHECK_ON_OPEN_KEY]: check, ...rest } = config as EngineConfig & { [CHECK_ON_OPEN_KEY]?: boolean };
    if (check === true && rest.path !== undefined) checkBeforeOpen(rest.path);
    return addon.open(rest);
  };
  return Object.freeze({
    name: d.name,
    contractVersion: CONTRACT_VERSION,
    packageName: pkg.name,
    version: pkg.version,
    threadModel: d.threadModel,
    ...(d.layout !== undefined ? { layout: d.layout } : {}),
    capabilities: Object.freeze(d.capabilities),
    configSchema,
    open,
    livePaths: () => addon.livePaths(),
  });
}
