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
