// Limits: what memcached cannot store is refused with INVALID_ARGUMENT before anything changes;
// a full local tier caches less but loses no write; Redis ACL credentials are used, and refused
// credentials fail at once with UNKNOWN_ERROR naming them.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { open, registerEngine } from '@pmemkv/core';
import plugin from '../src/index';
import { cachingConfig, expectRejected, rawClient, useTempDir, type Raw } from './helpers';
import { RemoteServer } from './servers';

registerEngine(plugin);

describe('memcached', () => {
  const server = new RemoteServer('memcached');
  let raw: Raw;
  beforeAll(async () => {
    await server.start();
    raw = rawClient(server);
  });
  afterAll(async () => {
    raw.close();
    await server.stop();
  });

  test('keys of 1 to 250 bytes (key_prefix included) are stored; longer and empty keys are INVALID_ARGUMENT and change nothing', async () => {
    using db = open('caching', cachingConfig(server), { keyEncoding: 'buffer' });
    const longest = Buffer.alloc(250, 'k');
    await db.promises.put(longest, 'fits');
    expect(await db.promises.get(longest)).toBe('fits');
    for (const op of [() => db.promises.put(Buffer.alloc(251, 'k'), 'v'), () => db.promises.get(Buffer.alloc(251, 'k')), () => db.promises.remove(Buffer.alloc(251, 'k'))]) {
      await expectRejected(op(), 'INVALID_ARGUMENT', 'at most 250 bytes', 'this key has 251');
    }
    await expectRejected(db.promises.put(Buffer.alloc(0), 'v'), 'INVALID_ARGUMENT', 'empty key', 'key_prefix');
    await expectRejected(db.promises.batch([{ type: 'put', key: Buffer.from('ok'), value: 'v' }, { type: 'del', key: Buffer.alloc(300) }]), 'INVALID_ARGUMENT', 'this key has 300');
    expect(await raw.get('ok')).toBeUndefined();
    expect(await db.promises.countAll()).toBe(1);

    using prefixed = open('caching', cachingConfig(server, { key_prefix: 'ns:' }), { keyEncoding: 'buffer' });
    await prefixed.promises.put(Buffer.alloc(247, 'p'), 'fits with the prefix');
    await expectRejected(prefixed.promises.put(Buffer.alloc(248, 'p'), 'v'), 'INVALID_ARGUMENT', 'key_prefix uses 3, leaving 247');
    // With a prefix the empty key is a key of 3 bytes on the server.
    await prefixed.promises.put(Buffer.alloc(0), 'empty key under a prefix');
    expect((await raw.get('ns:'))?.toString()).toBe('empty key under a prefix');
  });

  test('a value larger than memcached takes is INVALID_ARGUMENT; memcached drops the old value and so does the local tier', async () => {
    using db = open('caching', cachingConfig(server, { key_prefix: 'big:' }), { valueEncoding: 'buffer' });
    await db.promises.put('k', Buffer.from('small'));
    await db.promises.put('other', Buffer.from('untouched'));
    await expectRejected(db.promises.put('k', Buffer.alloc(2 * 1024 * 1024)), 'INVALID_ARGUMENT', 'Value too large', '1 MiB', 'local copy was dropped');
    // memcached unlinks the old item when it refuses a SET: the cache follows, never serving a value the server lost.
    expect(await raw.get('big:k')).toBeUndefined();
    expect(await db.promises.exists('k')).toBe(false);
    expect(await db.promises.get('k')).toBeUndefined();
    expect((await db.promises.get('other'))?.toString()).toBe('untouched');
    await db.promises.put('k', Buffer.alloc(512 * 1024, 7));
    expect((await db.promises.get('k'))?.equals(Buffer.alloc(512 * 1024, 7))).toBe(true);
  });
});

describe('redis', () => {
  const server = new RemoteServer('redis', ['--user', 'alice', 'on', '>secret', '~*', '&*', '+@all', '--user', 'default', 'off']);
  beforeAll(() => server.start());
  afterAll(() => server.stop());
  const tmp = useTempDir('caching-limits');

  test('remote_user and remote_pwd authenticate as a Redis ACL user', async () => {
    using db = open('caching', cachingConfig(server, { remote_user: 'alice', remote_pwd: 'secret', key_prefix: 'acl:' }));
    await db.promises.put('k', 'v');
    using other = open('caching', cachingConfig(server, { remote_user: 'alice', remote_pwd: 'secret', key_prefix: 'acl:' }));
    expect(await other.promises.get('k')).toBe('v');
  });

  test('refused credentials fail at once (no retries) with UNKNOWN_ERROR naming them and the reply as cause', async () => {
    using db = open('caching', cachingConfig(server, { remote_user: 'alice', remote_pwd: 'wrong', attempts: 50 }));
    const started = Date.now();
    const err = await expectRejected(db.promises.put('k', 'v'), 'UNKNOWN_ERROR', 'remote_user', 'remote_pwd');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(String((err.cause as Error).message)).toMatch(/WRONGPASS|NOAUTH/);
    using anonymous = open('caching', cachingConfig(server, { attempts: 50 }));
    await expectRejected(anonymous.promises.get('k'), 'UNKNOWN_ERROR', 'credentials');
  });

  test('a full local tier caches less but loses no write: every put resolves and every get returns the latest value', async () => {
    const config = cachingConfig(server, {
      remote_user: 'alice',
      remote_pwd: 'secret',
      key_prefix: 'full:',
      subengine: 'cmap',
      subengine_config: { path: tmp.path(), size: 8 * 1024 * 1024, create_if_missing: 1 },
    });
    using db = open('caching', config, { valueEncoding: 'buffer' });
    // 48 KiB values (each reply fits one socket read, so ioredis' parser keeps no pooled buffer alive after the test).
    const value = (round: number, i: number) => Buffer.alloc(48 * 1024, (round * 64 + i) & 0xff);
    const keys = 250;
    for (const round of [0, 1]) {
      for (let i = 0; i < keys; i++) await db.promises.put(`k${i}`, value(round, i));
      for (let i = 0; i < keys; i++) expect((await db.promises.get(`k${i}`))?.equals(value(round, i))).toBe(true);
    }
    // 250 values of 48 KiB (12 MiB) cannot all be cached in 8 MiB.
    expect(await db.promises.countAll()).toBeLessThan(keys);
  });
});
