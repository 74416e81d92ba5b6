/**
 * Config handling: pmemkv's config keys, given as an object or as a JSON string
 * (pmemkv_config_from_json), checked against core's common keys plus the engine's JSON Schema.
 *
 * Error codes follow pmemkv: a JSON text that does not parse, or holds a value pmemkv's JSON
 * config cannot carry (floats, arrays, null, also inside a nested object), is
 * CONFIG_PARSING_ERROR; a value of the wrong type is CONFIG_TYPE_ERROR; an unknown key, a value
 * out of range or a bad combination of keys is INVALID_ARGUMENT. Every message names the key,
 * with its path inside a nested object (`subengine_config.size`).
 *
 * Keys are a config's own properties, looked up in the schema's own properties: an inherited
 * name (`__proto__`, `constructor`, `toString`, ...) is an unknown key like any other. Flags
 * (`type: 'boolean'` keys) take exactly 0, 1, false or true.
 *
 * The flag rules live here and nowhere else: the config an engine's `open` receives has
 * `create_if_missing` and `create_or_error_if_exists` as booleans, never both true, and never
 * `force_create` (its deprecated alias, folded into `create_or_error_if_exists`).
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

/** A validated config value: nested objects are fresh plain objects. */
type ConfigValue = string | number | boolean | bigint | { readonly [key: string]: ConfigValue };

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

/** A value that reads as a plain object of keys (any realm; not an array, Buffer, Map, ...). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !ArrayBuffer.isView(value)
    && Object.prototype.toString.call(value) === '[object Object]';
}

/** A fresh object with `entries` as own data properties (never a prototype change, whatever the key). */
function freshObject(entries: Iterable<readonly [string, unknown]>): Record<string, ConfigValue> {
  return Object.fromEntries(entries) as Record<string, ConfigValue>;
}

/** The schema's own properties as a lookup that sees no inherited names. */
function schemaMap(properties: Readonly<Record<string, ConfigKeySchema>> | undefined): Map<string, ConfigKeySchema> {
  return new Map(Object.entries(properties ?? {}));
}

/** Refuses what pmemkv's JSON config cannot carry, at `path` and inside nested objects. */
function checkJsonValue(engine: string, path: string, value: unknown): void {
  if (value === null || Array.isArray(value) || (typeof value === 'number' && !Number.isInteger(value))) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : 'a fractional number';
    throw configError('CONFIG_PARSING_ERROR', engine, `key '${path}' holds ${kind}, which a JSON config cannot carry (use a string, an integer, a boolean or an object)`);
  }
  if (typeof value === 'object') {
    for (const [key, nested] of Object.entries(value)) checkJsonValue(engine, `${path}.${key}`, nested);
  }
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
  for (const [key, value] of Object.entries(config)) checkJsonValue(engine, key, value);
  return config;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * For a negative int32 where a non-negative integer belongs: the likely cause is a shift
 * (`1 << 31` is -2147483648 in JavaScript, whose `<<` works on 32-bit signed integers).
 */
function shiftHint(n: number): string {
  if (!Number.isInteger(n) || n >= 0 || n < -(2 ** 31)) return '';
  const meant = n + 2 ** 32;
  let shift = 0;
  while (shift < 31 && (meant / 2 ** shift) % 2 === 0) shift++;
  const factor = meant / 2 ** shift;
  if (shift >= 8) {
    const wrote = `${factor} << ${shift}`;
    const write = factor === 1 ? `2 ** ${shift}` : `${factor} * 2 ** ${shift}`;
    return `: ${wrote} overflows to ${n} in JavaScript, whose << works on 32-bit signed integers; write ${write} (= ${meant}) instead`;
  }
  return ' (if it came from a shift: << works on 32-bit signed integers in JavaScript, so 1 << 31 overflows to -2147483648; write 2 ** 31 instead)';
}

/** Checks one value against its key schema; returns it normalized (booleans from 0/1, sizes as numbers, objects fresh). */
function checkValue(engine: string, path: string, schema: ConfigKeySchema, value: unknown): ConfigValue {
  let out: string | number | boolean;
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') {
        throw configError('CONFIG_TYPE_ERROR', engine, `key '${path}' must be a string, got ${describeValue(value)}`);
      }
      out = value;
      break;
    case 'boolean':
      // pmemkv flags are int64 in C, but only 0 and 1 mean anything: 2 or -1 is a mistake.
      if (value === true || value === false) out = value;
      else if (value === 0 || value === 1) out = value === 1;
      else throw configError('CONFIG_TYPE_ERROR', engine, `key '${path}' is a flag and must be 0, 1, false or true, got ${describeValue(value)}`);
      break;
    case 'integer':
    case 'number': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'bigint') {
        if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw configError('INVALID_ARGUMENT', engine, `key '${path}' is ${value}, outside 0..2^53-1`);
        }
        n = Number(value);
      } else {
        throw configError('CONFIG_TYPE_ERROR', engine, `key '${path}' must be ${schema.type === 'integer' ? 'an integer' : 'a number'}, got ${describeValue(value)}`);
      }
      if (!Number.isFinite(n) || (schema.type === 'integer' && !Number.isSafeInteger(n))) {
        throw configError('CONFIG_TYPE_ERROR', engine, `key '${path}' must be ${schema.type === 'integer' ? 'a whole number up to 2^53' : 'a finite number'}, got ${describeValue(value)}`);
      }
      if (schema.minimum !== undefined && n < schema.minimum) {
        const hint = schema.type === 'integer' && schema.minimum >= 0 ? shiftHint(n) : '';
        throw configError('INVALID_ARGUMENT', engine, `key '${path}' is ${n}, below its minimum ${schema.minimum}${hint}`);
      }
      if (schema.maximum !== undefined && n > schema.maximum) {
        throw configError('INVALID_ARGUMENT', engine, `key '${path}' is ${n}, above its maximum ${schema.maximum}`);
      }
      out = n;
      break;
    }
    case 'object':
      return checkObject(engine, path, schema, value);
    default:
      throw configError('INVALID_ARGUMENT', engine, `key '${path}' has a schema of unknown type ${JSON.stringify((schema as { type?: unknown }).type)} (an engine defect)`);
  }
  if (schema.enum && !schema.enum.includes(out as string | number)) {
    throw configError('INVALID_ARGUMENT', engine, `key '${path}' is ${JSON.stringify(out)}; allowed: ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`);
  }
  return out;
}

/** A nested config object (`type: 'object'`), checked against its `properties` when given. */
function checkObject(engine: string, path: string, schema: ConfigKeySchema, value: unknown): ConfigValue {
  if (!isPlainObject(value)) {
    throw configError('CONFIG_TYPE_ERROR', engine, `key '${path}' must be an object of config keys, got ${describeValue(value)}`);
  }
  if (schema.properties === undefined) return passThrough(engine, path, value);
  const schemas = schemaMap(schema.properties);
  const values = checkKeys(engine, `${path}.`, value, schemas, schema.additionalProperties === true);
  for (const [key, nested] of schemas) {
    if (!values.has(key) && nested.default !== undefined) values.set(key, nested.default);
  }
  return freshObject(values);
}

/** A value no schema describes (inside an object without `properties`, or an additional key): copied as it is. */
function passThrough(engine: string, path: string, value: unknown): ConfigValue {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (isPlainObject(value)) {
    const entries: [string, ConfigValue][] = [];
    for (const [key, nested] of Object.entries(value)) {
      if (nested === undefined) continue;
      refuseProtoKey(engine, `${path}.${key}`, key);
      entries.push([key, passThrough(engine, `${path}.${key}`, nested)]);
    }
    return freshObject(entries);
  }
  throw configError('CONFIG_TYPE_ERROR', engine, `key '${path}' holds ${describeValue(value)}, which a config cannot carry (use a string, a number, a boolean or an object)`);
}

/** `__proto__` is never a config key, even where unknown keys are allowed: it would reach engines as a prototype. */
function refuseProtoKey(engine: string, path: string, key: string): void {
  if (key === '__proto__') throw configError('INVALID_ARGUMENT', engine, `key '${path}' cannot be a config key`);
}

/**
 * Checks the own keys of `raw` against `schemas` (keys named `prefix + key` in messages). An
 * unknown key is refused with the nearest known one suggested, unless `additional` allows it.
 */
function checkKeys(engine: string, prefix: string, raw: Record<string, unknown>, schemas: Map<string, ConfigKeySchema>, additional: boolean): Map<string, ConfigValue> {
  const values = new Map<string, ConfigValue>();
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const path = prefix + key;
    const schema = schemas.get(key);
    if (schema !== undefined) {
      values.set(key, checkValue(engine, path, schema, value));
      continue;
    }
    if (additional) {
      refuseProtoKey(engine, path, key);
      values.set(key, passThrough(engine, path, value));
      continue;
    }
    const known = [...schemas].filter(([, s]) => !s.deprecated).map(([k]) => k);
    const near = nearestKey(key, known);
    const hint = near ? `did you mean '${prefix}${near}'?` : known.length > 0 ? `known keys${prefix ? ` of '${prefix.slice(0, -1)}'` : ''}: ${known.join(', ')}` : 'it takes no keys';
    throw configError('INVALID_ARGUMENT', engine, `unknown key '${path}': ${hint}`);
  }
  return values;
}

/**
 * Validates `input` for `engine` and returns the config its plugin receives (a fresh object).
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

  // Core's keys win over an engine key of the same name.
  const common = schemaMap(COMMON_CONFIG_SCHEMA.properties);
  const schemas = new Map([...schemaMap(engineSchema.properties), ...common]);
  const values = checkKeys(engine, '', raw, schemas, false);
  for (const key of engineSchema.required ?? []) {
    if (values.get(key) === undefined) throw configError('INVALID_ARGUMENT', engine, `key '${key}' is required`);
  }

  const forceCreate = values.get('force_create') as boolean | undefined;
  if (forceCreate !== undefined && values.has('create_or_error_if_exists')) {
    throw configError('INVALID_ARGUMENT', engine, "give either 'create_or_error_if_exists' or its deprecated alias 'force_create', not both");
  }
  const createIfMissing = values.get('create_if_missing') === true;
  const createOrError = (forceCreate ?? values.get('create_or_error_if_exists')) === true;
  if (createIfMissing && createOrError) {
    throw configError('INVALID_ARGUMENT', engine, "'create_if_missing' and 'create_or_error_if_exists' exclude each other: set only one (create_if_missing opens an existing pool, create_or_error_if_exists insists on a new one)");
  }

  const path = values.get('path') as string | undefined;
  if (capabilities.persistent) {
    if (path === undefined || path === '') {
      throw configError('INVALID_ARGUMENT', engine, `key 'path' is required: the file of the '${engine}' pool`);
    }
    const willCreate = createOrError || (createIfMissing && !existsSync(path));
    const size = values.get('size') as number | undefined;
    if (willCreate && (size === undefined || size < MIN_POOL_SIZE)) {
      throw configError('INVALID_ARGUMENT', engine, size === undefined
        ? `key 'size' is required to create the pool at ${path} (bytes, at least ${MIN_POOL_SIZE} = 8 MiB)`
        : `key 'size' is ${size}, below the smallest pool of ${MIN_POOL_SIZE} bytes (8 MiB)`);
    }
  }

  const out = new Map<string, unknown>();
  if (path !== undefined) out.set('path', path);
  if (values.has('size')) out.set('size', values.get('size'));
  for (const [key, value] of values) if (!common.has(key)) out.set(key, value);
  for (const [key, schema] of schemaMap(engineSchema.properties)) {
    if (!common.has(key) && !out.has(key) && schema.default !== undefined) out.set(key, schema.default);
  }
  out.set('create_if_missing', createIfMissing);
  out.set('create_or_error_if_exists', createOrError);
  return freshObject(out) as unknown as EngineConfig;
}
