/**
 * The config error matrix. For every engine: a config given as a JSON string works like the
 * object; a JSON text that does not parse is CONFIG_PARSING_ERROR; a known key with a value of
 * the wrong type is CONFIG_TYPE_ERROR; an unknown key is INVALID_ARGUMENT whose message
 * suggests the nearest known key, inherited names such as `__proto__` and `toString` included;
 * a flag other than 0, 1, false or true is CONFIG_TYPE_ERROR. For persistent engines also: no
 * config or no path, create_if_missing together with create_or_error_if_exists (the message
 * names both), a size below 8 MiB when creating, opening a missing pool without a create flag,
 * and create_or_error_if_exists (or its alias force_create) on an existing pool are errors that
 * create nothing and leave an existing pool intact.
 */
import { describe, expect } from '@jest/globals';
import { existsSync, readdirSync } from 'node:fs';
import { open, PmemkvError } from '../index';
import { expectCode } from './assert-error';
import { type Suite, withoutCreateFlags } from './suite';
import * as via from './via';

const MIB = 1024 * 1024;

export function configErrors(s: Suite): void {
  const k = s.shape.key('cfg');
  const v = s.shape.value('intact');

  describe('config errors', () => {
    s.usePool();

    s.test('a config given as a JSON string works like the object', async () => {
      const db = s.pool.open(JSON.stringify(s.pool.config()));
      await via.put(s, db, k, v);
      expect(await via.get(s, db, k)).toBe(s.behaviour === 'store' ? v : undefined);
    });

    s.test('a JSON text that does not parse is CONFIG_PARSING_ERROR', () => {
      const text = JSON.stringify(s.pool.config());
      for (const bad of [text.slice(0, -1), `${text}}`, "{'path': 'x'}", '', '{"size": }']) {
        expectCode(`open with config ${JSON.stringify(bad)}`, () => s.pool.open(bad), 'CONFIG_PARSING_ERROR');
      }
      expect(readdirSync(s.pool.dir)).toEqual([]);
    });

    s.test('a known key with a value of the wrong type is CONFIG_TYPE_ERROR naming the key', () => {
      const base = s.pool.config();
      for (const [key, bad] of [['path', 5], ['size', 'big'], ['create_if_missing', 'yes'], ['create_or_error_if_exists', {}]] as const) {
        const err = expectCode(`open with ${key}: ${JSON.stringify(bad)}`, () => s.pool.open({ ...base, [key]: bad }), 'CONFIG_TYPE_ERROR');
        expect(err.message).toContain(key);
      }
      expect(readdirSync(s.pool.dir)).toEqual([]);
    });

    s.test('an unknown key is INVALID_ARGUMENT and the message suggests the nearest known key', () => {
      const base = s.pool.config();
      for (const [typo, meant] of [['create_if_mising', 'create_if_missing'], ['pth', 'path'], ['sise', 'size']] as const) {
        expectCode(`open with the unknown key ${typo}`, () => s.pool.open({ ...base, [typo]: base[meant] ?? 1 }), 'INVALID_ARGUMENT', typo, meant);
      }
      expect(readdirSync(s.pool.dir)).toEqual([]);
    });

    s.test('inherited names (__proto__, constructor, toString) are unknown keys; a flag takes only 0, 1, false or true', () => {
      const base = s.pool.config();
      const literal = { ...base, ['__proto__']: 1 };
      const defined = Object.defineProperty({ ...base }, '__proto__', { value: 1, enumerable: true });
      expectCode('open with an own __proto__ key (literal)', () => s.pool.open(literal), 'INVALID_ARGUMENT', '__proto__');
      expectCode('open with an own __proto__ key (defineProperty)', () => s.pool.open(defined), 'INVALID_ARGUMENT', '__proto__');
      const text = JSON.stringify(base);
      const json = `{"__proto__":1${text === '{}' ? '}' : `,${text.slice(1)}`}`;
      expectCode('open with a JSON __proto__ key', () => s.pool.open(json), 'INVALID_ARGUMENT', '__proto__');
      for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
        expectCode(`open with the key ${name}`, () => s.pool.open({ ...base, [name]: 1 }), 'INVALID_ARGUMENT', name);
      }
      for (const bad of [2, -1, 0.5]) {
        expectCode(`open with create_if_missing: ${bad}`, () => s.pool.open({ ...withoutCreateFlags(base), create_if_missing: bad }), 'CONFIG_TYPE_ERROR', 'create_if_missing', '0, 1, false or true');
      }
      expect(readdirSync(s.pool.dir)).toEqual([]);
    });

    if (s.caps.persistent) {
      s.test('no config, or a config without path, is INVALID_ARGUMENT', () => {
        expectCode('open without a config', () => open(s.engine), 'INVALID_ARGUMENT');
        const { path: _path, ...noPath } = s.pool.config();
        expectCode('open without path', () => s.pool.open(noPath), 'INVALID_ARGUMENT', 'path');
        expectCode('open with an empty path', () => s.pool.open({ ...noPath, path: '' }), 'INVALID_ARGUMENT', 'path');
      });

      s.test('create_if_missing together with create_or_error_if_exists is INVALID_ARGUMENT naming both', () => {
        const config = { ...withoutCreateFlags(s.pool.config()), create_if_missing: 1, create_or_error_if_exists: 1 };
        expectCode('open with both create flags', () => s.pool.open(config), 'INVALID_ARGUMENT', 'create_if_missing', 'create_or_error_if_exists');
        expectCode('open with both create flags (JSON)', () => s.pool.open(JSON.stringify({ ...config, create_if_missing: true })), 'INVALID_ARGUMENT', 'create_if_missing', 'create_or_error_if_exists');
        expect(existsSync(s.pool.path())).toBe(false);
      });

      s.test('a size below 8 MiB when creating is INVALID_ARGUMENT and creates nothing', () => {
        for (const flags of [{ create_if_missing: 1 }, { create_or_error_if_exists: 1 }]) {
          for (const size of [8 * MIB - 1, MIB, 0]) {
            const config = { ...withoutCreateFlags(s.pool.config()), ...flags, size };
            expectCode(`create with size ${size}`, () => s.pool.open(config), 'INVALID_ARGUMENT', 'size');
          }
          const { size: _size, ...noSize }: Record<string, unknown> = { ...withoutCreateFlags(s.pool.config()), ...flags };
          expectCode('create without size', () => s.pool.open(noSize), 'INVALID_ARGUMENT', 'size');
        }
        expect(existsSync(s.pool.path())).toBe(false);
        expect(readdirSync(s.pool.dir)).toEqual([]);
      });

      s.test('opening a missing pool without a create flag fails and creates nothing', () => {
        const config = withoutCreateFlags(s.pool.config());
        expect(() => s.pool.open(config)).toThrow(PmemkvError);
        expect(() => s.pool.open({ ...config, create_if_missing: 0 })).toThrow(PmemkvError);
        expect(existsSync(s.pool.path())).toBe(false);
      });

      s.test('create_or_error_if_exists (and force_create) on an existing pool fails and leaves it intact', async () => {
        const db = s.pool.fresh();
        await via.put(s, db, k, v);
        db.close();
        const base = withoutCreateFlags(s.pool.config());
        expect(() => s.pool.open({ ...base, create_or_error_if_exists: 1 })).toThrow(PmemkvError);
        expect(() => s.pool.open({ ...base, create_or_error_if_exists: true })).toThrow(PmemkvError);
        expect(() => s.pool.open({ ...base, force_create: 1 })).toThrow(PmemkvError);
        const again = s.pool.reopen();
        expect(await via.get(s, again, k)).toBe(v);
        expect(await via.countAll(s, again)).toBe(1);
      });

      s.test('create_or_error_if_exists creates a new pool when none exists', async () => {
        const db = s.pool.open({ ...withoutCreateFlags(s.pool.config()), create_or_error_if_exists: 1 });
        await via.put(s, db, k, v);
        expect(await via.get(s, db, k)).toBe(v);
        db.close();
        expect(existsSync(s.pool.path())).toBe(true);
        expect(await via.get(s, s.pool.reopen(), k)).toBe(v);
      });
    }
  });
}
