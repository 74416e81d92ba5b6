// A persistent sub-engine (cmap, tree3) on /dev/shm keeps the local copies across a restart of
// the caching database: they answer after reopen even with the remote down, and their expiry
// time is stored with them, so a copy that expired while the database was closed is refetched.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { open, registerEngine } from '@pmemkv/core';
import { existsSync } from 'node:fs';
import plugin from '../src/index';
import { cachingConfig, expectRejected, rawClient, sleep, useTempDir } from './helpers';
import { RemoteServer } from './servers';

registerEngine(plugin);

const server = new RemoteServer('redis');
beforeAll(() => server.start());
afterAll(() => server.stop());

describe.each(['cmap', 'tree3'])('sub-engine %s', (subengine) => {
  const tmp = useTempDir(`caching-${subengine}`);
  const config = (extra: Record<string, unknown> = {}) =>
    cachingConfig(server, {
      subengine,
      subengine_config: { path: tmp.path(), size: 16 * 1024 * 1024, create_if_missing: 1 },
      key_prefix: `${tmp.path()}:`,
      attempts: 1,
      remote_timeout: 500,
      ...extra,
    });

  test('the local copies survive closing and reopening, and answer while the remote is down', async () => {
    const entries = Array.from({ length: 200 }, (_, i) => [`key-${i}`, `value-${i}-${'x'.repeat(i)}`] as const);
    {
      using db = open('caching', config());
      for (const [k, v] of entries) await db.promises.put(k, v);
      expect(await db.promises.countAll()).toBe(entries.length);
    }
    expect(existsSync(tmp.path())).toBe(true);
    await server.kill();
    try {
      using db = open('caching', config());
      expect(await db.promises.countAll()).toBe(entries.length);
      for (const [k, v] of entries) expect(await db.promises.get(k)).toBe(v);
      await expectRejected(db.promises.put('key-0', 'changed'), 'UNKNOWN_ERROR');
      expect(await db.promises.get('key-0')).toBe(entries[0][1]);
    } finally {
      await server.start();
    }
  });

  test('the expiry time is stored with the copy: one that expired while closed is fetched again after reopen', async () => {
    {
      using db = open('caching', config({ ttl: 1 }));
      await db.promises.put('k', 'first');
      expect(await db.promises.exists('k')).toBe(true);
    }
    const raw = rawClient(server);
    try {
      await raw.set(`${tmp.path()}:k`, 'second');
    } finally {
      raw.close();
    }
    {
      using db = open('caching', config({ ttl: 1 }));
      // Reopened at once: still fresh.
      expect(await db.promises.get('k')).toBe('first');
    }
    await sleep(1100);
    using db = open('caching', config({ ttl: 1 }));
    expect(await db.promises.exists('k')).toBe(false);
    expect(await db.promises.get('k')).toBe('second');
    expect(await db.promises.exists('k')).toBe(true);
  });

  test('a value in the pool that is not a local copy (written by the sub-engine directly) is refetched, never returned', async () => {
    {
      using plain = open(subengine, { path: tmp.path(), size: 16 * 1024 * 1024, create_if_missing: 1 });
      plain.put('k', 'written without the caching engine');
      plain.put('gone', 'neither');
    }
    const raw = rawClient(server);
    try {
      await raw.set(`${tmp.path()}:k`, 'the remote value');
    } finally {
      raw.close();
    }
    using db = open('caching', config());
    expect(await db.promises.exists('k')).toBe(false);
    expect(await db.promises.get('k')).toBe('the remote value');
    expect(await db.promises.get('gone')).toBeUndefined();
    expect(await db.promises.countAll()).toBe(1);
  });

  test('a shorter ttl on reopen applies to the copies already stored', async () => {
    {
      using db = open('caching', config({ ttl: 0 }));
      await db.promises.put('k', 'kept forever under ttl 0');
    }
    await sleep(1100);
    using db = open('caching', config({ ttl: 1 }));
    expect(await db.promises.exists('k')).toBe(false);
    expect(await db.promises.get('k')).toBe('kept forever under ttl 0');
    expect(await db.promises.exists('k')).toBe(true);
  });
});
