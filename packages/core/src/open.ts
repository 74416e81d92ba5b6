/**
 * `open(engineName, config, options)`: finds the engine, validates the config against core's
 * common keys and the engine's schema, and opens it.
 */
import type { EngineHandle } from './contract';
import { resolveConfig, type ConfigInput } from './config';
import { Database } from './database';
import { findEngine } from './discovery';
import { keyCodec, valueCodec, type Codec, type KeyEncodingName, type KeyOf, type ValueEncodingName, type ValueOf } from './encodings';
import { invalidArgument, toPmemkvError } from './errors';

export interface OpenOptions<KE extends KeyEncodingName = 'utf8', VE extends ValueEncodingName = 'utf8'> {
  /** How keys are returned: `'utf8'` strings (default) or `'buffer'`. */
  keyEncoding?: KE;
  /** How values are stored and returned: `'utf8'` strings (default), `'buffer'` or `'json'`. */
  valueEncoding?: VE;
}

/**
 * Opens (or creates, per the config flags) a database on the engine called `engine`.
 *
 * @param config pmemkv config keys as an object or a JSON string, e.g.
 *   `{ path: '/dev/shm/my.kv', size: 1 << 30, create_if_missing: 1 }`.
 * @throws PmemkvError WRONG_ENGINE_NAME (no such engine; the message lists installed ones),
 *   INVALID_ARGUMENT / CONFIG_TYPE_ERROR / CONFIG_PARSING_ERROR (config), or the engine's error
 *   (e.g. INVALID_ARGUMENT for a pool of another engine).
 */
export function open<KE extends KeyEncodingName = 'utf8', VE extends ValueEncodingName = 'utf8'>(
  engine: string,
  config?: ConfigInput | null,
  options?: OpenOptions<KE, VE>,
): Database<KeyOf<KE>, ValueOf<VE>> {
  const plugin = findEngine(engine);
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidArgument('open() options must be an object of { keyEncoding, valueEncoding }');
  }
  for (const key of Object.keys(options ?? {})) {
    if (key !== 'keyEncoding' && key !== 'valueEncoding') {
      throw invalidArgument(`open() does not know the option '${key}': use keyEncoding or valueEncoding`);
    }
  }
  const keys = keyCodec(options?.keyEncoding) as Codec<KeyOf<KE>>;
  const values = valueCodec(options?.valueEncoding) as Codec<ValueOf<VE>>;
  const engineConfig = resolveConfig(plugin.name, config, plugin.configSchema, plugin.capabilities);
  let handle: EngineHandle;
  try {
    handle = plugin.open(engineConfig);
  } catch (err) {
    throw toPmemkvError(err);
  }
  return new Database(plugin, handle, keys, values);
}
