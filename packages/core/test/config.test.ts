import { afterAll, describe, expect, test } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_POOL_SIZE, PmemkvError, resolveConfig, type Capabilities, type ConfigSchema } from '../src';
import { nearestKey } from '../src/config';

const persistent: Capabilities = { persistent: true, concurrent: false, sorted: true, iterators: true, reverse: true, transactions: false, defrag: false };
const volatile: Capabilities = { ...persistent, persistent: false };
const schema: ConfigSchema = {
  type: 'object',
  properties: {
    load_factor: { type: 'number', minimum: 0.1, maximum: 0.9, default: 0.5 },
    shards: { type: 'integer', minimum: 1, enum: [1, 2, 4] },
    mode: { type: 'string', enum: ['fast', 'safe'] },
  },
};

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PmemkvError);
    return { code: (err as PmemkvError).code, message: (err as Error).message };
  }
  throw new Error('expected a PmemkvError');
}

describe('resolveConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmemkv-config-'));
  const missing = join(dir, 'missing.pool');
  const existing = join(dir, 'existing.pool');
  writeFileSync(existing, '');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('normalizes flags, defaults and sizes', () => {
    const cfg = resolveConfig('e', { path: missing, size: 2 ** 53 - 1, create_if_missing: 1 }, schema, persistent);
    expect(cfg).toEqual({ path: missing, size: 2 ** 53 - 1, create_if_missing: true, create_or_error_if_exists: false, load_factor: 0.5 });
  });

  test('sizes of 4 GiB and more stay exact (no 32-bit truncation), also as bigint', () => {
    expect(resolveConfig('e', { path: missing, size: 4 * 2 ** 30 + 1, create_if_missing: true }, schema, persistent).size).toBe(4 * 2 ** 30 + 1);
    expect(resolveConfig('e', { path: missing, size: 5n * 2n ** 30n, create_if_missing: true }, schema, persistent).size).toBe(5 * 2 ** 30);
    expect(resolveConfig('e', JSON.stringify({ path: missing, size: 2 ** 40, create_if_missing: 1 }), schema, persistent).size).toBe(2 ** 40);
  });

  test('accepts a JSON string', () => {
    const cfg = resolveConfig('e', `{"path":"${existing}","create_if_missing":true,"mode":"safe"}`, schema, persistent);
    expect(cfg.mode).toBe('safe');
    expect(cfg.create_if_missing).toBe(true);
  });

  test('force_create is an alias of create_or_error_if_exists', () => {
    const cfg = resolveConfig('e', { path: missing, size: MIN_POOL_SIZE, force_create: 1 }, schema, persistent);
    expect(cfg.create_or_error_if_exists).toBe(true);
    expect(cfg).not.toHaveProperty('force_create');
    expect(codeOf(() => resolveConfig('e', { path: missing, size: MIN_POOL_SIZE, force_create: 1, create_or_error_if_exists: 1 }, schema, persistent)).code).toBe('INVALID_ARGUMENT');
  });

  test('an unknown key is refused and the nearest known key suggested', () => {
    const e = codeOf(() => resolveConfig('e', { pth: missing }, schema, persistent));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain("'pth'");
    expect(e.message).toContain("did you mean 'path'");
    expect(codeOf(() => resolveConfig('e', { path: existing, creat_if_missing: 1 }, schema, persistent)).message).toContain("'create_if_missing'");
    expect(codeOf(() => resolveConfig('e', { path: existing, load_factr: 0.3 }, schema, persistent)).message).toContain("'load_factor'");
    expect(codeOf(() => resolveConfig('e', { path: existing, zzzzzzzzzz: 1 }, schema, persistent)).message).toContain('known keys: ');
  });

  test('wrong types are CONFIG_TYPE_ERROR naming the key', () => {
    for (const [key, value] of [['path', 5], ['size', '8M'], ['create_if_missing', 'yes'], ['load_factor', 'high'], ['shards', 1.5], ['mode', 3]] as const) {
      const e = codeOf(() => resolveConfig('e', { path: existing, [key]: value }, schema, persistent));
      expect(e.code).toBe('CONFIG_TYPE_ERROR');
      expect(e.message).toContain(`'${key}'`);
    }
  });

  test('bad JSON is CONFIG_PARSING_ERROR; floats, arrays and null in JSON too', () => {
    expect(codeOf(() => resolveConfig('e', '{"path": ', schema, persistent)).code).toBe('CONFIG_PARSING_ERROR');
    expect(codeOf(() => resolveConfig('e', '[1,2]', schema, persistent)).code).toBe('CONFIG_PARSING_ERROR');
    for (const text of [`{"path":"${existing}","size":1.5}`, `{"path":"${existing}","size":[1]}`, `{"path":null}`]) {
      const e = codeOf(() => resolveConfig('e', text, schema, persistent));
      expect(e.code).toBe('CONFIG_PARSING_ERROR');
      expect(e.message).toMatch(/'(size|path)'/);
    }
  });

  test('flag and size rules for persistent engines', () => {
    expect(codeOf(() => resolveConfig('e', {}, schema, persistent)).message).toContain("'path'");
    expect(codeOf(() => resolveConfig('e', undefined, schema, persistent)).code).toBe('INVALID_ARGUMENT');
    const both = codeOf(() => resolveConfig('e', { path: missing, size: MIN_POOL_SIZE, create_if_missing: 1, create_or_error_if_exists: 1 }, schema, persistent));
    expect(both.code).toBe('INVALID_ARGUMENT');
    expect(both.message).toContain('create_if_missing');
    expect(both.message).toContain('create_or_error_if_exists');
    expect(codeOf(() => resolveConfig('e', { path: missing, create_if_missing: 1 }, schema, persistent)).message).toContain("'size' is required");
    expect(codeOf(() => resolveConfig('e', { path: missing, size: MIN_POOL_SIZE - 1, create_or_error_if_exists: 1 }, schema, persistent)).message).toContain('8 MiB');
    // Reopening an existing pool needs no size.
    expect(resolveConfig('e', { path: existing, create_if_missing: 1 }, schema, persistent).size).toBeUndefined();
    expect(codeOf(() => resolveConfig('e', { path: existing, size: -1 }, schema, persistent)).code).toBe('INVALID_ARGUMENT');
  });

  test('engine schema limits and enums', () => {
    expect(codeOf(() => resolveConfig('e', { path: existing, load_factor: 0.95 }, schema, persistent)).message).toContain('maximum');
    expect(codeOf(() => resolveConfig('e', { path: existing, shards: 3 }, schema, persistent)).message).toContain('allowed');
    expect(codeOf(() => resolveConfig('e', { required_key: 1 }, { type: 'object', properties: { required_key: { type: 'integer' }, other: { type: 'integer' } }, required: ['other'] }, volatile)).message).toContain("'other' is required");
  });

  test('volatile engines need no config at all; a config must be an object or JSON string', () => {
    expect(resolveConfig('v', undefined, { type: 'object', properties: {} }, volatile)).toEqual({ create_if_missing: false, create_or_error_if_exists: false });
    expect(codeOf(() => resolveConfig('v', 42 as never, { type: 'object', properties: {} }, volatile)).code).toBe('INVALID_ARGUMENT');
  });

  test('nearestKey only suggests likely typos', () => {
    expect(nearestKey('sise', ['path', 'size'])).toBe('size');
    expect(nearestKey('completely_else', ['path', 'size'])).toBeUndefined();
  });
});

describe('resolveConfig: nested config objects', () => {
  const nested: ConfigSchema = {
    type: 'object',
    properties: {
      subengine: { type: 'string' },
      subengine_config: {
        type: 'object',
        properties: {
          path: { type: 'string' },
          size: { type: 'integer', minimum: 0 },
          create_if_missing: { type: 'boolean' },
          mode: { type: 'string', enum: ['a', 'b'], default: 'a' },
        },
      },
      extras: { type: 'object', properties: { known: { type: 'integer' } }, additionalProperties: true },
      opaque: { type: 'object' },
    },
  };
  const sub = { path: '/dev/shm/sub', size: 2 ** 30, create_if_missing: 1 };

  test('a nested object is checked against its properties and handed over as a fresh plain object', () => {
    const given = { subengine: 'cmap', subengine_config: sub };
    const cfg = resolveConfig('caching', given, nested, volatile);
    expect(cfg.subengine_config).toEqual({ path: '/dev/shm/sub', size: 2 ** 30, create_if_missing: true, mode: 'a' });
    expect(cfg.subengine_config).not.toBe(sub);
    expect(Object.getPrototypeOf(cfg.subengine_config)).toBe(Object.prototype);
    expect(sub).toEqual({ path: '/dev/shm/sub', size: 2 ** 30, create_if_missing: 1 });
  });

  test('a JSON config carries a nested object; floats, arrays and null are refused inside it too', () => {
    const cfg = resolveConfig('caching', JSON.stringify({ subengine_config: sub }), nested, volatile);
    expect(cfg.subengine_config).toEqual({ path: '/dev/shm/sub', size: 2 ** 30, create_if_missing: true, mode: 'a' });
    for (const [inner, kind] of [['{"size":1.5}', 'fractional'], ['{"path":[1]}', 'array'], ['{"path":null}', 'null'], ['{"deeper":{"x":0.5}}', 'fractional']] as const) {
      const e = codeOf(() => resolveConfig('caching', `{"opaque":${inner}}`, nested, volatile));
      expect(e.code).toBe('CONFIG_PARSING_ERROR');
      expect(e.message).toContain(`'opaque.${JSON.parse(inner) && Object.keys(JSON.parse(inner))[0]}`);
      expect(e.message).toContain(kind);
    }
  });

  test('nested keys follow the top-level rules, and messages name the path', () => {
    const type = codeOf(() => resolveConfig('caching', { subengine_config: { size: 'big' } }, nested, volatile));
    expect(type).toMatchObject({ code: 'CONFIG_TYPE_ERROR' });
    expect(type.message).toContain("'subengine_config.size'");
    const below = codeOf(() => resolveConfig('caching', { subengine_config: { size: 1 << 31 } }, nested, volatile));
    expect(below.code).toBe('INVALID_ARGUMENT');
    expect(below.message).toContain("'subengine_config.size' is -2147483648");
    expect(below.message).toContain('2 ** 31');
    expect(codeOf(() => resolveConfig('caching', { subengine_config: { mode: 'c' } }, nested, volatile)).message).toContain('allowed');
    expect(codeOf(() => resolveConfig('caching', { subengine_config: { create_if_missing: 2 } }, nested, volatile)).code).toBe('CONFIG_TYPE_ERROR');
  });

  test('unknown nested keys are refused with a suggestion unless additionalProperties is true', () => {
    const e = codeOf(() => resolveConfig('caching', { subengine_config: { sise: 1 } }, nested, volatile));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain("unknown key 'subengine_config.sise'");
    expect(e.message).toContain("did you mean 'subengine_config.size'?");
    expect(codeOf(() => resolveConfig('caching', { subengine_config: { ['__proto__']: 1 } }, nested, volatile)).code).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => resolveConfig('caching', { subengine_config: { toString: 1 } }, nested, volatile)).code).toBe('INVALID_ARGUMENT');
    const cfg = resolveConfig('caching', { extras: { known: 3, anything: 'goes', more: { deep: true } } }, nested, volatile);
    expect(cfg.extras).toEqual({ known: 3, anything: 'goes', more: { deep: true } });
    expect(codeOf(() => resolveConfig('caching', { extras: { known: 'x' } }, nested, volatile)).code).toBe('CONFIG_TYPE_ERROR');
    // Even where unknown keys are allowed, __proto__ never reaches an engine.
    expect(codeOf(() => resolveConfig('caching', JSON.parse('{"extras":{"__proto__":{"polluted":1}}}'), nested, volatile)).code).toBe('INVALID_ARGUMENT');
    expect(({} as { polluted?: number }).polluted).toBeUndefined();
  });

  test('an object schema without properties passes any object through (fresh); a non-object is CONFIG_TYPE_ERROR', () => {
    const given = { a: 1, b: { c: 'x' } };
    const cfg = resolveConfig('caching', { opaque: given }, nested, volatile);
    expect(cfg.opaque).toEqual(given);
    expect(cfg.opaque).not.toBe(given);
    expect((cfg.opaque as { b: object }).b).not.toBe(given.b);
    for (const bad of ['text', 5, true, [1], Buffer.from('x'), new Map()]) {
      const e = codeOf(() => resolveConfig('caching', { subengine_config: bad }, nested, volatile));
      expect(e.code).toBe('CONFIG_TYPE_ERROR');
      expect(e.message).toContain("'subengine_config' must be an object");
      expect(codeOf(() => resolveConfig('caching', { opaque: bad }, nested, volatile)).code).toBe('CONFIG_TYPE_ERROR');
    }
    expect(codeOf(() => resolveConfig('caching', JSON.stringify({ subengine_config: 'text' }), nested, volatile)).code).toBe('CONFIG_TYPE_ERROR');
  });
});

describe('resolveConfig: keys are own properties; flags are 0, 1, false or true', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmemkv-config-own-'));
  const existing = join(dir, 'existing.pool');
  writeFileSync(existing, '');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('__proto__, constructor, toString, hasOwnProperty and other inherited names are unknown keys', () => {
    const literal = { path: existing, ['__proto__']: 1 };
    const defined = Object.defineProperty({ path: existing }, '__proto__', { value: 1, enumerable: true });
    expect(Object.keys(literal)).toContain('__proto__');
    expect(Object.keys(defined)).toContain('__proto__');
    const parsed = JSON.parse(`{"path":"${existing}","__proto__":1}`);
    expect(Object.keys(parsed)).toContain('__proto__');
    for (const config of [literal, defined, parsed, JSON.stringify(parsed)]) {
      const e = codeOf(() => resolveConfig('e', config, schema, persistent));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain("unknown key '__proto__'");
    }
    for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__']) {
      const e = codeOf(() => resolveConfig('e', { path: existing, [name]: 1 }, schema, persistent));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain(`unknown key '${name}'`);
      expect(e.message).toMatch(/did you mean|known keys/);
      expect(codeOf(() => resolveConfig('e', `{"path":"${existing}","${name}":1}`, schema, persistent)).code).toBe('INVALID_ARGUMENT');
    }
    // A config with a null prototype is fine.
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { path: existing, mode: 'safe' });
    expect(resolveConfig('e', bare, schema, persistent).mode).toBe('safe');
  });

  test('flags take only 0, 1, false and true; anything else is CONFIG_TYPE_ERROR naming the allowed values', () => {
    const flags: ConfigSchema = { type: 'object', properties: { verify: { type: 'boolean', default: true } } };
    for (const key of ['create_if_missing', 'create_or_error_if_exists', 'force_create', 'verify']) {
      for (const bad of [2, -1, 0.5, '1', 'true', 1n, null]) {
        const e = codeOf(() => resolveConfig('e', { path: existing, [key]: bad }, flags, persistent));
        expect(e.code).toBe('CONFIG_TYPE_ERROR');
        expect(e.message).toContain(`'${key}'`);
        expect(e.message).toContain('0, 1, false or true');
      }
      expect(codeOf(() => resolveConfig('e', `{"path":"${existing}","${key}":2}`, flags, persistent)).code).toBe('CONFIG_TYPE_ERROR');
    }
    expect(resolveConfig('e', { path: existing, verify: 0 }, flags, persistent).verify).toBe(false);
    expect(resolveConfig('e', { path: existing }, flags, persistent).verify).toBe(true);
  });

  test('the config an engine receives never holds force_create and always both create flags as booleans', () => {
    const sneaky: ConfigSchema = { type: 'object', properties: { force_create: { type: 'boolean', default: true }, create_if_missing: { type: 'integer', default: 7 } } };
    for (const input of [{ path: existing }, { path: existing, force_create: 0 }, { path: existing, force_create: true }, { path: existing, create_if_missing: 1 }]) {
      const cfg = resolveConfig('e', input, sneaky, volatile);
      expect(cfg).not.toHaveProperty('force_create');
      expect(typeof cfg.create_if_missing).toBe('boolean');
      expect(typeof cfg.create_or_error_if_exists).toBe('boolean');
      expect(cfg.create_if_missing && cfg.create_or_error_if_exists).toBe(false);
    }
    expect(resolveConfig('e', { path: existing, force_create: 1 }, sneaky, volatile).create_or_error_if_exists).toBe(true);
  });

  test("a negative size from a 32-bit shift says why and what to write instead", () => {
    const e = codeOf(() => resolveConfig('e', { path: existing, size: 1 << 31, create_if_missing: 1 }, schema, persistent));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe("e config: key 'size' is -2147483648, below its minimum 0: 1 << 31 overflows to -2147483648 in JavaScript, whose << works on 32-bit signed integers; write 2 ** 31 (= 2147483648) instead");
    expect(codeOf(() => resolveConfig('e', { path: existing, size: 3 << 30 }, schema, persistent)).message).toContain('3 << 30 overflows to -1073741824 in JavaScript, whose << works on 32-bit signed integers; write 3 * 2 ** 30 (= 3221225472) instead');
    const small = codeOf(() => resolveConfig('e', { path: existing, size: -5 }, schema, persistent)).message;
    expect(small).toContain("key 'size' is -5, below its minimum 0");
    expect(small).toContain('write 2 ** 31 instead');
    // Not an int32: no shift hint.
    expect(codeOf(() => resolveConfig('e', { path: existing, size: -(2 ** 40) }, schema, persistent)).message).toBe(`e config: key 'size' is ${-(2 ** 40)}, below its minimum 0`);
  });
});
