/**
 * Config handling: pmemkv's config keys, given as an object or as a JSON string
 * (pmemkv_config_from_json), checked against core's common keys plus the engine's JSON Schema.
 *
 * Error codes follow pmemkv: a JSON text that does not parse, or holds a value pmemkv's JSON
 * config cannot carry (floats, arrays, null), is CONFIG_PARSING_ERROR; a value of the wrong type
 * is CONFIG_TYPE_ERROR; an unknown key, a value out of range or a bad combination of keys is
 * INVALID_ARGUMENT. Every message names the key.
 */
import { existsSync } from 'node:fs';
import type { Capabilities, ConfigKeySchema, ConfigSchema, EngineConfig } from './contract';
import { PmemkvError } from './errors';

/** What `open` accepts as config. */
export type ConfigInput = Record<string, unknown> | string;

/** libpmemobj's smallest pool (PMEMOBJ_MIN_POOL). */
export const MIN_POOL_SIZE = 8 * 1024 * 1024;

/** Core's keys, known to every engine. */
export const COMMON_CONFIG_SCHEMA: ConfigSchema = {
  type: 'object',
  properties: {
    path: {
      type: 'string',
      description: 'Pool file of a persistent engine. Required by persistent engines; fixed at creation.',
    },
    size: {
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: `Pool size in bytes, used only when the pool is created (at least ${MIN_POOL_SIZE} = 8 MiB, up to 2^53). Ignored on reopen.`,
    },
    create_if_missing: {
      type: 'boolean',
      default: false,
      description: 'Open the pool, creating it (with `size`) when the file does not exist. Default false.',
    },
    create_or_error_if_exists: {
      type: 'boolean',
      default: false,
      description: 'Create the pool (with `size`); fail when the file exists. Default false.',
    },
    force_create: {
      type: 'boolean',
      deprecated: true,
      description: 'Deprecated alias of `create_or_error_if_exists`.',
    },
  },
};

function configError(code: 'CONFIG_TYPE_ERROR' | 'CONFIG_PARSING_ERROR' | 'INVALID_ARGUMENT', engine: string, message: string) {
  return new PmemkvError(code, `${engine} config: ${message}`);
}

/** Edit distance, for "did you mean" suggestions. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** The known key nearest to `key`, when it is near enough to be a likely typo. */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

function parseJson(engine: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw configError('CONFIG_PARSING_ERROR', engine, `the JSON text does not parse (${(err as Error).message}); pass a JSON object such as {"path":"/dev/shm/db","size":1073741824,"create_if_missing":1}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw configError('CONFIG_PARSING_ERROR', engine, 'the JSON text must be an object of config keys');
  }
  const config = parsed as Record<string, unknown>;
  for (const [key, value] of Object.entries(config)) {
    if (value === null || Array.isArray(value) || (typeof value === 'number' && !Number.isInteger(value))) {
      const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : 'a fractional number';
      throw configError('CONFIG_PARSING_ERROR', engine, `key '${key}' holds ${kind}, which a JSON config cannot carry (use a string, an integer, a boolean or an object)`);
    }
  }
  return config;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** Checks one value against its key schema and returns it normalized (booleans from 0/1, sizes as numbers). */
function checkValue(engine: string, key: string, schema: ConfigKeySchema, value: unknown): string | number | boolean {
  let out: string | number | boolean;
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') {
        throw configError('CONFIG_TYPE_ERROR', engine, `key '${key}' must be a string, got ${describeValue(value)}`);
      }
      out = value;
      break;
    case 'boolean':
      // pmemkv flags are int64 in C; JSON true/false and 0/1 are all accepted.
      if (typeof value === 'boolean') out = value;
      else if (typeof value === 'number' && Number.isInteger(value)) out = value !== 0;
      else if (typeof value === 'bigint') out = value !== 0n;
      else throw configError('CONFIG_TYPE_ERROR', engine, `key '${key}' must be a boolean or 0/1, got ${describeValue(value)}`);
      break;
    case 'integer':
    case 'number': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'bigint') {
        if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw configError('INVALID_ARGUMENT', engine, `key '${key}' is ${value}, outside 0..2^53-1`);
        }
        n = Number(value);
      } else {
        throw configError('CONFIG_TYPE_ERROR', engine, `key '${key}' must be ${schema.type === 'integer' ? 'an integer' : 'a number'}, got ${describeValue(value)}`);
      }
      if (!Number.isFinite(n) || (schema.type === 'integer' && !Number.isSafeInteger(n))) {
        throw configError('CONFIG_TYPE_ERROR', engine, `key '${key}' must be ${schema.type === 'integer' ? 'a whole number up to 2^53' : 'a finite number'}, got ${describeValue(value)}`);
      }
      if (schema.minimum !== undefined && n < schema.minimum) {
        throw configError('INVALID_ARGUMENT', engine, `key '${key}' is ${n}, below its minimum ${schema.minimum}`);
      }
      if (schema.maximum !== undefined && n > schema.maximum) {
        throw configError('INVALID_ARGUMENT', engine, `key '${key}' is ${n}, above its maximum ${schema.maximum}`);
      }
      out = n;
      break;
    }
  }
  if (schema.enum && !schema.enum.includes(out as string | number)) {
    throw configError('INVALID_ARGUMENT', engine, `key '${key}' is ${JSON.stringify(out)}; allowed: ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  return out;
}

/**
 * Validates `input` for `engine` and returns the config its plugin receives.
 * @throws PmemkvError CONFIG_PARSING_ERROR, CONFIG_TYPE_ERROR or INVALID_ARGUMENT.
 */
export function resolveConfig(
  engine: string,
  input: ConfigInput | undefined | null,
  engineSchema: ConfigSchema,
  capabilities: Capabilities,
): EngineConfig {
  let raw: Record<string, unknown>;
  if (input === undefined || input === null) {
    if (capabilities.persistent) {
      throw configError('INVALID_ARGUMENT', engine, `a config is required: pass { path, size, create_if_missing: 1 } for the '${engine}' engine`);
    }
    raw = {};
  } else if (typeof input === 'string') {
    raw = parseJson(engine, input);
  } else if (typeof input === 'object' && !Array.isArray(input) && !Buffer.isBuffer(input)) {
    raw = input;
  } else {
    throw configError('INVALID_ARGUMENT', engine, `config must be an object or a JSON string, got ${describeValue(input)}`);
  }

  const properties: Record<string, ConfigKeySchema> = { ...engineSchema.properties, ...COMMON_CONFIG_SCHEMA.properties };
  const known = Object.keys(properties).filter((k) => !properties[k]!.deprecated);
  const values: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const schema = properties[key];
    if (!schema) {
      const near = nearestKey(key, known);
      const hint = near ? `did you mean '${near}'?` : `known keys: ${known.join(', ')}`;
      throw configError('INVALID_ARGUMENT', engine, `unknown key '${key}': ${hint}`);
    }
    values[key] = checkValue(engine, key, schema, value);
  }
  for (const key of engineSchema.required ?? []) {
    if (values[key] === undefined) throw configError('INVALID_ARGUMENT', engine, `key '${key}' is required`);
  }

  if (values.force_create !== undefined) {
    if (values.create_or_error_if_exists !== undefined) {
      throw configError('INVALID_ARGUMENT', engine, "give either 'create_or_error_if_exists' or its deprecated alias 'force_create', not both");
    }
    values.create_or_error_if_exists = values.force_create;
  }
  delete values.force_create;
  const createIfMissing = values.create_if_missing === true;
  const createOrError = values.create_or_error_if_exists === true;
  if (createIfMissing && createOrError) {
    throw configError('INVALID_ARGUMENT', engine, "'create_if_missing' and 'create_or_error_if_exists' exclude each other: set only one (create_if_missing opens an existing pool, create_or_error_if_exists insists on a new one)");
  }

  const path = values.path as string | undefined;
  if (capabilities.persistent) {
    if (path === undefined || path === '') {
      throw configError('INVALID_ARGUMENT', engine, `key 'path' is required: the file of the '${engine}' pool`);
    }
    const willCreate = createOrError || (createIfMissing && !existsSync(path));
    const size = values.size as number | undefined;
    if (willCreate && (size === undefined || size < MIN_POOL_SIZE)) {
      throw configError('INVALID_ARGUMENT', engine, size === undefined
        ? `key 'size' is required to create the pool at ${path} (bytes, at least ${MIN_POOL_SIZE} = 8 MiB)`
        : `key 'size' is ${size}, below the smallest pool of ${MIN_POOL_SIZE} bytes (8 MiB)`);
    }
  }

  for (const [key, schema] of Object.entries(engineSchema.properties)) {
    if (values[key] === undefined && schema.default !== undefined) values[key] = schema.default;
  }
  return { ...values, create_if_missing: createIfMissing, create_or_error_if_exists: createOrError } as EngineConfig;
}
