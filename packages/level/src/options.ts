/**
 * The constructor options of PmemkvLevel, split in three: the engine name, the pmemkv config
 * (core's common keys and the engine's own keys, as the engine's schema names them), and what
 * stays with abstract-level (encodings, `createIfMissing`, `errorIfExists`, `passive` and any
 * userland option, which abstract-level forwards to `open()` and its hooks).
 *
 * The engine is looked up when the database is constructed, because `db.supports` must tell
 * the truth from the start: only sorted engines that iterate both ways and have sync methods
 * can serve abstract-level (which demands lexicographic order, reverse iteration and seek).
 */
import { COMMON_CONFIG_SCHEMA, findEngine, PmemkvError, type Capabilities, type EnginePlugin } from '@pmemkv/core';

/** The engine used when the options name none. */
export const DEFAULT_ENGINE = 'tree3';

/** Config keys PmemkvLevel sets itself: the location is the path, the flags come from open(). */
const OWN_KEYS: Readonly<Record<string, string>> = {
  path: "the pool's path is the location argument of new PmemkvLevel(location, options)",
  create_if_missing: 'use the createIfMissing option (of the constructor or of open())',
  create_or_error_if_exists: 'use the errorIfExists option (of the constructor or of open())',
  force_create: 'use the errorIfExists option (of the constructor or of open())',
};

export interface SplitOptions {
  readonly plugin: EnginePlugin;
  /** pmemkv config keys without path and flags. */
  readonly config: Readonly<Record<string, unknown>>;
  /** What the AbstractLevel constructor receives. */
  readonly forward: Record<string, unknown>;
}

/**
 * Finds the engine and splits the options.
 * @throws PmemkvError WRONG_ENGINE_NAME (no such engine; the message says what to install),
 *   NOT_SUPPORTED (an engine abstract-level cannot run on), INVALID_ARGUMENT (a config key
 *   PmemkvLevel sets itself, or a key order other than bytewise).
 */
export function splitOptions(options: Readonly<Record<string, unknown>>): SplitOptions {
  const { engine = DEFAULT_ENGINE, ...rest } = options;
  if (typeof engine !== 'string') throw new TypeError(`The 'engine' option must be an engine name such as '${DEFAULT_ENGINE}'`);
  const plugin = findEngine(engine);
  refuseUnusable(plugin);
  const configKeys = new Set([...Object.keys(COMMON_CONFIG_SCHEMA.properties), ...Object.keys(plugin.configSchema.properties ?? {})]);
  const config: Record<string, unknown> = {};
  const forward: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (OWN_KEYS[key] !== undefined) throw new PmemkvError('INVALID_ARGUMENT', `PmemkvLevel sets the config key '${key}' itself: ${OWN_KEYS[key]}`);
    if (configKeys.has(key)) config[key] = value;
    else forward[key] = value;
  }
  // abstract-level ranges are lexicographic: a pool kept in any other order would answer every
  // range query wrongly, so the comparator is pinned (an existing pool of another order is then
  // refused by the engine with COMPARATOR_MISMATCH).
  if (configKeys.has('comparator')) {
    if (config.comparator !== undefined && config.comparator !== 'bytewise') {
      throw new PmemkvError('INVALID_ARGUMENT', `PmemkvLevel needs keys in bytewise order (abstract-level ranges are lexicographic), got comparator ${JSON.stringify(config.comparator)}: leave 'comparator' out or set it to 'bytewise'`);
    }
    config.comparator = 'bytewise';
  }
  return { plugin, config, forward };
}

function refuseUnusable(plugin: EnginePlugin): void {
  const caps: Capabilities = plugin.capabilities;
  const missing: string[] = [];
  if (!caps.sorted) missing.push('it does not keep keys in order');
  else if (!caps.iterators || !caps.reverse) missing.push('it does not iterate in both directions');
  if (caps.sync === false) missing.push('it is async-only');
  if (missing.length === 0) return;
  throw new PmemkvError(
    'NOT_SUPPORTED',
    `PmemkvLevel cannot run on the ${plugin.name} engine: ${missing.join(' and ')}; abstract-level needs a sorted engine with sync methods that iterates both ways, such as tree3, stree, csmap, radix or vmap`,
  );
}
