// The robinhood options: `shards_number` and `load_factor` as config keys and as the
// environment variables PMEMKV_ROBINHOOD_SHARDS_NUMBER and PMEMKV_ROBINHOOD_LOAD_FACTOR (a config
// key wins), the shard count fixed at creation, and the 8-byte sizes that core checks before
// native code.
import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { open } from '@pmemkv/core';
import { buffers, errorOf, MiB, openRobinhood, usePoolDir, word } from './helpers';
import plugin from '../src/index';

const SHARDS = 'PMEMKV_ROBINHOOD_SHARDS_NUMBER';
const LOAD = 'PMEMKV_ROBINHOOD_LOAD_FACTOR';

/** Opens `config` in a child process whose environment adds `env`; its outcome. */
function openInChild(config: Record<string, unknown>, env: Record<string, string> = {}): { ok?: boolean; code?: string; message?: string } {
  const out = execFileSync(process.execPath, [join(__dirname, 'fixtures', 'open-child.js'), JSON.stringify(config)], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as { ok?: boolean; code?: string; message?: string };
}

describe('options', () => {
  const pools = usePoolDir();
  const create = (name: string, extra: Record<string, unknown> = {}) => ({ path: pools.pool(name), size: 16 * MiB, create_if_missing: 1, ...extra });

  test('the shard count is fixed at creation: another one on reopen is INVALID_ARGUMENT naming both', () => {
    const poolPath = pools.pool();
    const db = openRobinhood(poolPath, { shards_number: 16 });
    db.put(word(1), word(2));
    db.close();
    const err = errorOf(() => openRobinhood(poolPath, { shards_number: 64 }));
    expect(err?.code).toBe('INVALID_ARGUMENT');
    expect(err?.message).toMatch(/created with 16 shards/);
    expect(err?.message).toMatch(/config\.shards_number is 64/);
    const fromEnv = openInChild({ path: poolPath }, { [SHARDS]: '32' });
    expect(fromEnv.code).toBe('INVALID_ARGUMENT');
    expect(fromEnv.message).toMatch(/16 shards/);
    expect(fromEnv.message).toMatch(/PMEMKV_ROBINHOOD_SHARDS_NUMBER is 32/);
    // The config key wins over the variable; without either, the stored count is used.
    expect(openInChild({ path: poolPath, shards_number: 16 }, { [SHARDS]: '32' })).toEqual({ ok: true });
    const plain = openRobinhood(poolPath);
    expect(plain.get(word(1))).toEqual(word(2));
    plain.close();
  });

  test('PMEMKV_ROBINHOOD_SHARDS_NUMBER sets the count of a new pool; config.shards_number wins over it', () => {
    expect(openInChild(create('a'), { [SHARDS]: '8' })).toEqual({ ok: true });
    expect(errorOf(() => openRobinhood(pools.pool('a'), { shards_number: 1024 }))?.message).toMatch(/created with 8 shards/);
    expect(openInChild(create('b', { shards_number: 4 }), { [SHARDS]: '8' })).toEqual({ ok: true });
    expect(errorOf(() => openRobinhood(pools.pool('b'), { shards_number: 8 }))?.message).toMatch(/created with 4 shards/);
    const b = openRobinhood(pools.pool('b'));
    expect(b.get(Buffer.from('childkey'))?.toString()).toBe('childval');
    b.close();
  });

  test('environment variables out of range or not numbers are INVALID_ARGUMENT naming the variable', () => {
    for (const [name, bad] of [
      [SHARDS, '0'],
      [SHARDS, '65537'],
      [SHARDS, 'many'],
      [SHARDS, '-4'],
      [LOAD, '0'],
      [LOAD, '1.5'],
      [LOAD, 'half'],
      [LOAD, '0.5%'],
    ] as const) {
      const got = openInChild(create(`${name}-${bad}`), { [name]: bad });
      expect({ name, bad, code: got.code }).toEqual({ name, bad, code: 'INVALID_ARGUMENT' });
      expect(got.message).toContain(`${name} is "${bad}"`);
    }
    // In range they are taken; a config key wins, and the variable is not read then.
    expect(openInChild(create('lf'), { [LOAD]: '0.3' })).toEqual({ ok: true });
    expect(openInChild(create('ok', { load_factor: 0.25 }), { [LOAD]: 'half' })).toEqual({ ok: true });
    expect(openInChild(create('ok2', { shards_number: 2 }), { [SHARDS]: 'many' })).toEqual({ ok: true });
  });

  test('config keys out of their schema ranges are INVALID_ARGUMENT from core; the schema declares both keys', () => {
    expect(errorOf(() => openRobinhood(pools.pool(), { shards_number: 0 }))?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => openRobinhood(pools.pool(), { shards_number: 70000 }))?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => openRobinhood(pools.pool(), { shards_number: 1.5 }))?.code).toBeDefined();
    expect(errorOf(() => openRobinhood(pools.pool(), { load_factor: 0.99 }))?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => openRobinhood(pools.pool(), { load_factr: 0.5 }))?.message).toMatch(/load_factor/);
    const props = plugin.configSchema.properties;
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['load_factor', 'shards_number']));
    expect(props.shards_number).toMatchObject({ type: 'integer', minimum: 1, maximum: 65536 });
    expect(props.load_factor).toMatchObject({ type: 'number', minimum: 0.05, maximum: 0.95 });
  });

  test('keys and values of any size but 8 bytes are INVALID_ARGUMENT from core, naming the sizes', () => {
    const db = open('robinhood', { path: pools.pool(), size: 16 * MiB, create_if_missing: 1 }, buffers);
    const key = errorOf(() => db.put(Buffer.alloc(7), word(1)));
    expect(key?.code).toBe('INVALID_ARGUMENT');
    expect(key?.message).toMatch(/exactly 8 bytes; this key has 7/);
    const value = errorOf(() => db.put(word(1), Buffer.alloc(9)));
    expect(value?.message).toMatch(/exactly 8 bytes; this value has 9/);
    expect(errorOf(() => db.get(Buffer.alloc(0)))?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => db.remove(Buffer.alloc(16)))?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => db.batch([{ type: 'put', key: word(1), value: Buffer.alloc(3) }]))?.code).toBe('INVALID_ARGUMENT');
    expect(db.countAll()).toBe(0);
    // The engine handle checks too, for callers that bypass core.
    const handle = plugin.open({ path: pools.pool(), create_if_missing: false, create_or_error_if_exists: false });
    expect(errorOf(() => handle.put(Buffer.alloc(4), word(1)))?.message).toMatch(/exactly 8 bytes; this key has 4/);
    handle.close();
    db.close();
  });
});
