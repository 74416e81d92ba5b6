// Read-through, write-through and TTL against a real redis-server and a real memcached: what the
// remote holds is checked with a direct client, and the remote is changed behind the cache's
// back to tell a local answer from a remote one.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { open, registerEngine } from '@pmemkv/core';
import plugin from '../src/index';
import { cachingConfig, rawClient, sleep, type Raw } from './helpers';
import { RemoteServer, type RemoteKind } from './servers';

registerEngine(plugin);

describe.each<RemoteKind>(['redis', 'memcached'])('%s', (kind) => {
  const server = new RemoteServer(kind);
  let raw: Raw;
  let n = 0;
  /** A key prefix of this test's own, so tests sharing the server never meet. */
  const prefix = () => `t${++n}:`;

  beforeAll(async () => {
    await server.start();
    raw = rawClient(server);
  });
  afterAll(async () => {
    raw.close();
    await server.stop();
  });

  test('get reads through: a miss fetches the remote value and keeps a local copy that answers later gets', async () => {
    const p = prefix();
    await raw.set(`${p}k`, 'from remote');
    using db = open('caching', cachingConfig(server, { key_prefix: p }));
    expect(await db.promises.exists('k')).toBe(false);
    expect(await db.promises.countAll()).toBe(0);
    expect(await db.promises.get('k')).toBe('from remote');
    expect(await db.promises.exists('k')).toBe(true);
    expect(await db.promises.countAll()).toBe(1);
    // Changed behind the cache's back: ttl 0 keeps the local copy valid forever.
    await raw.set(`${p}k`, 'changed');
    expect(await db.promises.get('k')).toBe('from remote');
    expect(await db.promises.get('absent')).toBeUndefined();
    expect(await db.promises.countAll()).toBe(1);
  });

  test('put and remove write through: the remote first, then the local copy', async () => {
    const p = prefix();
    using db = open('caching', cachingConfig(server, { key_prefix: p }));
    await db.promises.put('a', 'one');
    expect((await raw.get(`${p}a`))?.toString()).toBe('one');
    expect(await db.promises.exists('a')).toBe(true);
    await db.promises.put('a', 'two');
    expect((await raw.get(`${p}a`))?.toString()).toBe('two');
    expect(await db.promises.get('a')).toBe('two');
    expect(await db.promises.remove('a')).toBe(true);
    expect(await raw.get(`${p}a`)).toBeUndefined();
    expect(await db.promises.exists('a')).toBe(false);
    expect(await db.promises.remove('a')).toBe(false);
    // A key only the remote holds: remove reports it was there.
    await raw.set(`${p}only-remote`, 'x');
    expect(await db.promises.remove('only-remote')).toBe(true);
    expect(await raw.get(`${p}only-remote`)).toBeUndefined();
    expect(await db.promises.countAll()).toBe(0);
  });

  test('a batch writes through with last-op-wins per key', async () => {
    const p = prefix();
    using db = open('caching', cachingConfig(server, { key_prefix: p }));
    await db.promises.put('c', 'old');
    await db.promises.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
      { type: 'del', key: 'a' },
      { type: 'del', key: 'c' },
      { type: 'put', key: 'b', value: '3' },
    ]);
    expect(await raw.get(`${p}a`)).toBeUndefined();
    expect((await raw.get(`${p}b`))?.toString()).toBe('3');
    expect(await raw.get(`${p}c`)).toBeUndefined();
    expect(await db.promises.get('b')).toBe('3');
    expect(await db.promises.countAll()).toBe(1);
  });

  test('a get and a put of one key issued together: the get sees the old value, later gets the put\'s local copy', async () => {
    const p = prefix();
    using db = open('caching', cachingConfig(server, { key_prefix: p }));
    for (let round = 0; round < 50; round++) {
      const key = `k${round}`;
      await raw.set(`${p}${key}`, 'v0');
      // The get misses locally and fetches v0; the put is issued before that fetch returns.
      const [got] = await Promise.all([db.promises.get(key), db.promises.put(key, 'v1')]);
      expect(got).toBe('v0');
      // Changed behind the cache's back: only the local copy can answer v1 now.
      await raw.set(`${p}${key}`, 'behind');
      expect(await db.promises.get(key)).toBe('v1');
    }
  });

  test('ttl: a local copy expires after ttl seconds and the next get fetches the remote again', async () => {
    const p = prefix();
    using db = open('caching', cachingConfig(server, { key_prefix: p, ttl: 1 }));
    await db.promises.put('k', 'first');
    await db.promises.put('gone', 'soon removed remotely');
    await raw.set(`${p}k`, 'second');
    await raw.del(`${p}gone`);
    expect(await db.promises.get('k')).toBe('first');
    expect(await db.promises.get('gone')).toBe('soon removed remotely');
    await sleep(1100);
    expect(await db.promises.exists('k')).toBe(false);
    // Expired copies still count until a read refreshes or drops them (no background sweep).
    expect(await db.promises.countAll()).toBe(2);
    expect(await db.promises.get('k')).toBe('second');
    expect(await db.promises.exists('k')).toBe(true);
    expect(await db.promises.get('gone')).toBeUndefined();
    expect(await db.promises.countAll()).toBe(1);
    const all: [string, string][] = [];
    await db.promises.getAll((key, value) => void all.push([key, value]));
    expect(all).toEqual([['k', 'second']]);
  });

  test('keys and values are bytes: zero bytes, 0xff, spaces, newlines and empty values survive both tiers', async () => {
    const p = prefix();
    const pairs: [Buffer, Buffer][] = [
      [Buffer.from([0]), Buffer.from([0, 0, 0])],
      [Buffer.from('a b\nc\r\td'), Buffer.alloc(0)],
      [Buffer.from([0xff, 0xfe, 0x00, 0x7f]), Buffer.from([0xff, 0, 0xc1, 0])],
      [Buffer.from('é ü 中'), Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff))],
    ];
    if (kind === 'redis') pairs.push([Buffer.alloc(0), Buffer.from('the empty key')]);
    using writer = open('caching', cachingConfig(server, { key_prefix: p }), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    for (const [k, v] of pairs) await writer.promises.put(k, v);
    for (const [k, v] of pairs) expect((await raw.get(Buffer.concat([Buffer.from(p), k])))?.equals(v)).toBe(true);
    // A second database with an empty local tier reads every pair through the remote.
    using reader = open('caching', cachingConfig(server, { key_prefix: p }), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    for (const [k, v] of pairs) expect((await reader.promises.get(k))?.equals(v)).toBe(true);
    expect(await reader.promises.countAll()).toBe(pairs.length);
    for (const [k, v] of pairs) expect((await writer.promises.get(k))?.equals(v)).toBe(true);
  });
});
