// A remote that dies mid-run (SIGKILL) and comes back on the same port, and one that hangs
// (SIGSTOP): writes fail cleanly with UNKNOWN_ERROR and the remote's reason as `cause`, leave
// the local copy as it was, reads of cached entries keep working, and the same database writes
// again once the server is back.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { open, PmemkvError, registerEngine } from '@pmemkv/core';
import plugin from '../src/index';
import { cachingConfig, expectRejected, rawClient } from './helpers';
import { RemoteServer, type RemoteKind } from './servers';

registerEngine(plugin);

describe.each<RemoteKind>(['redis', 'memcached'])('%s', (kind) => {
  const server = new RemoteServer(kind);
  beforeAll(() => server.start());
  afterAll(() => server.stop());

  test('killed mid-run: writes fail with UNKNOWN_ERROR and a cause, cached reads work, writes work again after a restart', async () => {
    using db = open('caching', cachingConfig(server, { attempts: 2, remote_timeout: 1000, key_prefix: 'kill:' }));
    await db.promises.put('a', 'cached a');
    await db.promises.put('b', 'cached b');
    await server.kill();

    const started = Date.now();
    const failed = await expectRejected(db.promises.put('c', 'never'), 'UNKNOWN_ERROR', `${kind} 127.0.0.1:${server.port}`, 'after 2 attempts', 'local copy is unchanged');
    expect(failed.cause).toBeDefined();
    expect(String((failed.cause as Error).message ?? failed.cause)).toMatch(/ECONNREFUSED|closed|Connection|retries/i);
    // Two attempts with one short wait between them: a failure, not a hang.
    expect(Date.now() - started).toBeLessThan(5000);

    const overwrite = await expectRejected(db.promises.put('a', 'new a'), 'UNKNOWN_ERROR');
    expect(overwrite.cause).toBeDefined();
    await expectRejected(db.promises.remove('b'), 'UNKNOWN_ERROR');
    await expectRejected(db.promises.batch([{ type: 'put', key: 'd', value: 'x' }]), 'UNKNOWN_ERROR', 'batch');
    // The local copies are as they were, and answer without the remote.
    expect(await db.promises.get('a')).toBe('cached a');
    expect(await db.promises.get('b')).toBe('cached b');
    expect(await db.promises.exists('c')).toBe(false);
    expect(await db.promises.countAll()).toBe(2);
    // A key that is not cached needs the remote.
    await expectRejected(db.promises.get('not cached'), 'UNKNOWN_ERROR', 'read a key');

    await server.start();
    await db.promises.put('c', 'after restart');
    expect(await db.promises.get('c')).toBe('after restart');
    await db.promises.put('a', 'new a');
    expect(await db.promises.get('a')).toBe('new a');
    const raw = rawClient(server);
    try {
      expect((await raw.get('kill:c'))?.toString()).toBe('after restart');
      expect((await raw.get('kill:a'))?.toString()).toBe('new a');
    } finally {
      raw.close();
    }
  });

  test('a server that stops answering: each attempt ends at remote_timeout, and the database recovers when it answers again', async () => {
    using db = open('caching', cachingConfig(server, { attempts: 2, remote_timeout: 300, key_prefix: 'hang:' }));
    await db.promises.put('a', 'cached a');
    await server.pause();
    try {
      const started = Date.now();
      const failed = await expectRejected(db.promises.put('a', 'lost'), 'UNKNOWN_ERROR', 'after 2 attempts');
      expect(failed.cause).toBeDefined();
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(550);
      expect(took).toBeLessThan(5000);
      expect(await db.promises.get('a')).toBe('cached a');
    } finally {
      server.resume();
    }
    await db.promises.put('a', 'answered');
    expect(await db.promises.get('a')).toBe('answered');
  });

  test('a database opened while the server is down fails its first writes and works once the server is up', async () => {
    await server.kill();
    try {
      using db = open('caching', cachingConfig(server, { attempts: 1, remote_timeout: 500, key_prefix: 'late:' }));
      const err = await expectRejected(db.promises.put('k', 'v'), 'UNKNOWN_ERROR', 'after 1 attempt');
      expect(err).toBeInstanceOf(PmemkvError);
      await server.start();
      let written = false;
      // Redis reconnects on its own schedule (at most 500 ms apart): a few tries cover one round.
      for (let i = 0; i < 20 && !written; i++) {
        written = await db.promises.put('k', 'v').then(() => true, () => false);
      }
      expect(written).toBe(true);
      expect(await db.promises.get('k')).toBe('v');
    } finally {
      if (!server.running) await server.start();
    }
  });
});
