// The caching engine's config: pmemkv's keys checked by core's schema validation (unknown and
// mistyped keys refused with suggestions, also inside subengine_config, which the sub-engine
// validates), the checks of the engine itself, and sync calls refused in favour of db.promises.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { open, registerEngine } from '@pmemkv/core';
import plugin from '../src/index';
import { cachingConfig, expectRejected, expectThrown, useTempDir } from './helpers';
import { RemoteServer } from './servers';

registerEngine(plugin);

const server = new RemoteServer('redis');
beforeAll(() => server.start());
afterAll(() => server.stop());
const tmp = useTempDir('caching-config');

describe('config keys', () => {
  test('unknown keys are INVALID_ARGUMENT with the nearest known key suggested', () => {
    const base = cachingConfig(server);
    for (const [typo, meant] of [['remote_tpye', 'remote_type'], ['atempts', 'attempts'], ['subengine_cfg', 'subengine_config'], ['remote_pswd', 'remote_pwd'], ['hots', 'host']]) {
      expectThrown(() => open('caching', { ...base, [typo]: 1 }), 'INVALID_ARGUMENT', `'${typo}'`, `'${meant}'`);
    }
    // A key far from every known one: the message lists them all.
    expectThrown(() => open('caching', { ...base, server_address: 'x' }), 'INVALID_ARGUMENT', "'server_address'", 'host', 'port', 'subengine_config');
    // pmemkv's remote_url is not taken (host and port are): refused, never ignored.
    expectThrown(() => open('caching', { ...base, remote_url: 'redis://x' }), 'INVALID_ARGUMENT', "'remote_url'");
  });

  test('mistyped and out-of-range values are refused naming the key', () => {
    const base = cachingConfig(server);
    expectThrown(() => open('caching', { ...base, port: '6379' }), 'CONFIG_TYPE_ERROR', 'port');
    expectThrown(() => open('caching', { ...base, ttl: 'forever' }), 'CONFIG_TYPE_ERROR', 'ttl');
    expectThrown(() => open('caching', { ...base, subengine_config: 'path=/x' }), 'CONFIG_TYPE_ERROR', 'subengine_config');
    expectThrown(() => open('caching', { ...base, ttl: -1 }), 'INVALID_ARGUMENT', 'ttl', 'minimum');
    expectThrown(() => open('caching', { ...base, attempts: 0 }), 'INVALID_ARGUMENT', 'attempts');
    expectThrown(() => open('caching', { ...base, port: 70000 }), 'INVALID_ARGUMENT', 'port');
    expectThrown(() => open('caching', { ...base, remote_type: 'mongodb' }), 'INVALID_ARGUMENT', 'remote_type', '"redis"', '"memcached"');
  });

  test('remote_type and subengine are required', () => {
    const { remote_type: _r, ...noType } = cachingConfig(server);
    const { subengine: _s, ...noSub } = cachingConfig(server);
    expectThrown(() => open('caching', noType), 'INVALID_ARGUMENT', 'remote_type', 'required');
    expectThrown(() => open('caching', noSub), 'INVALID_ARGUMENT', 'subengine', 'required');
    expectThrown(() => open('caching'), 'INVALID_ARGUMENT', 'required');
  });

  test("subengine_config is validated by the sub-engine, and its errors say they come from subengine_config", () => {
    const sub = (subengine_config: Record<string, unknown>) => cachingConfig(server, { subengine: 'cmap', subengine_config });
    expectThrown(() => open('caching', sub({ pth: tmp.path(), size: 16 << 20, create_if_missing: 1 })), 'INVALID_ARGUMENT', 'subengine_config', "'pth'", "'path'");
    expectThrown(() => open('caching', sub({ path: tmp.path(), size: 'big', create_if_missing: 1 })), 'CONFIG_TYPE_ERROR', 'subengine_config', 'size');
    expectThrown(() => open('caching', sub({ path: tmp.path() })), 'INVALID_ARGUMENT', 'subengine_config');
    expectThrown(() => open('caching', sub({ path: tmp.path(), size: 1 << 20, create_if_missing: 1 })), 'INVALID_ARGUMENT', 'size');
  });

  test('the sub-engine must be an installed local engine with sync methods and room for the expiry header', () => {
    expectThrown(() => open('caching', cachingConfig(server, { subengine: 'cmpa' })), 'WRONG_ENGINE_NAME', 'cmap');
    expectThrown(() => open('caching', cachingConfig(server, { subengine: 'caching' })), 'INVALID_ARGUMENT', 'cmap, tree3 or vcmap');
  });

  test('pool keys at the top level are refused: they belong in subengine_config', () => {
    expectThrown(() => open('caching', { ...cachingConfig(server), path: tmp.path() }), 'INVALID_ARGUMENT', "'path'", 'subengine_config');
    expectThrown(() => open('caching', { ...cachingConfig(server), size: 16 << 20 }), 'INVALID_ARGUMENT', "'size'", 'subengine_config');
    expectThrown(() => open('caching', { ...cachingConfig(server), create_if_missing: 1 }), 'INVALID_ARGUMENT', 'create_if_missing', 'subengine_config');
  });

  test('remote_user needs remote_pwd', () => {
    expectThrown(() => open('caching', cachingConfig(server, { remote_user: 'alice' })), 'INVALID_ARGUMENT', 'remote_pwd');
  });

  test('a JSON config with a nested subengine_config works like the object', async () => {
    const json = JSON.stringify({ remote_type: 'redis', port: server.port, key_prefix: 'json:', subengine: 'cmap', subengine_config: { path: tmp.path(), size: 16 << 20, create_if_missing: 1 } });
    using db = open('caching', json);
    await db.promises.put('k', 'v');
    expect(await db.promises.get('k')).toBe('v');
  });
});

describe('async only', () => {
  test('sync calls are NOT_SUPPORTED and the message names the db.promises twin; the promises work', async () => {
    using db = open('caching', cachingConfig(server, { key_prefix: 'sync:' }));
    expect(db.capabilities.sync).toBe(false);
    expectThrown(() => db.put('k', 'v'), 'NOT_SUPPORTED', 'async-only', 'db.promises.put()');
    expectThrown(() => db.get('k'), 'NOT_SUPPORTED', 'db.promises.get()');
    expectThrown(() => db.countAll(), 'NOT_SUPPORTED', 'db.promises.countAll()');
    await db.promises.put('k', 'v');
    expect(await db.promises.get('k')).toBe('v');
    await expectRejected(db.promises.countAbove('k'), 'NOT_SUPPORTED');
  });
});
