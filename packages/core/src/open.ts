/**
 * `open(engineName, config, options)`: finds the engine, validates the config against core's
 * common keys and the engine's schema, and opens it.
 */
import type { EngineHandle } from './contract';
import { resolveConfig, type ConfigInput } from './config';
import { Database } from './database';
import { findEngine } from './discovery';
import { keyCodec, valueCodec, type Codec, type KeyEncoding, type KeyOf, type ValueEncoding, type ValueOf } from './encodings';
import { invalidArgument, toPmemkvError } from './errors';

export interface OpenOptions<KE extends KeyEncoding = 'utf8', VE extends ValueEncoding = 'utf8'> {
  /** How keys are returned: `'utf8'` strings (default), `'buffer'`, or a custom `{ encode, decode }`. */
  keyEncoding?: KE;
  /** How values are stored and returned: `'utf8'` strings (default), `'buffer'`, `'json'`, or a custom `{ encode, decode }`. */
  valueEncoding?: VE;
}

/**
 * Opens (or creates, per the config flags) a database on the engine called `engine`.
 *
 * The value type of a `'json'` database may be given: `open<User>('cmap', config, { valueEncoding: 'json' })`
 * is a `Database<string, User>` (then a key encoding other than utf8 is the second type argument).
 * A custom encoding's type is inferred: `{ valueEncoding: userCodec }` gives values of its type.
 *
 * @param config pmemkv config keys as an object or a JSON string, e.g.
 *   `{ path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 }`.
 * @throws PmemkvError WRONG_ENGINE_NAME (no such engine; the message lists installed ones),
 *   INVALID_ARGUMENT / CONFIG_TYPE_ERROR / CONFIG_PARSING_ERROR (config), or the engine's error
 *   (e.g. INVALID_ARGUMENT for a pool of another engine).
 */
export function open<V, KE extends KeyEncoding = 'utf8'>(
  engine: string,
  config: ConfigInput | null | undefined,
  options: OpenOptions<KE, 'json'> & { valueEncoding: 'json' },
): Database<KeyOf<KE>, V>;
export function open<KE extends KeyEncoding = 'utf8', VE extends ValueEncoding = 'utf8'>(
  engine: string,
  config?: ConfigInput | null,
  options?: OpenOptions<KE, VE>,
): Database<KeyOf<KE>, ValueOf<VE>>;
export function open(engine: string, config?: ConfigInput | null, options?: OpenOptions<KeyEncoding, ValueEncoding>): Database<unknown, unknown> {
  const plugin = findEngine(engine);
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidArgument('open() options must be an object of { keyEncoding, valueEncoding }');
  }
  for (const key of Object.keys(options ?? {})) {
    if (key !== 'keyEncoding' && key !== 'valueEncoding') {
      throw invalidArgument(`open() does not know the option '${key}': use keyEncoding or valueEncoding`);
    }
  }
  const keys: Codec<unknown> = keyCodec(options?.keyEncoding);
  const values: Codec<unknown> = valueCodec(options?.valueEncoding);
  const engineConfig = resolveConfig(plugin.name, config, plugin.configSchema, plugin.capabilities);
  let handle: EngineHandle;
  try {
    handle = plugin.open(engineConfig);
  } catch (err) {
    throw toPmemkvError(err);
  }
  return new Database(plugin, handle, keys, values);
}
