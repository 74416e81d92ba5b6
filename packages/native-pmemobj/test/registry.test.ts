// The glue's registry: every open of one pool path in a process shares one engine, across
// handles, worker_threads and garbage collection; the pool closes with the last reference.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { checkPool } from '../src/index';
import { EngineAddon, FIXTURE_ADDON, MiB, loadFixture, makeTempDir, removeTempDir, thrown } from './helpers';

let dir: string;
let fixture: EngineAddon;
let n = 0;
const fresh = (): string => path.join(dir, `r${n++}.pool`);
const create = { size: 8 * MiB, create_if_missing: true };

beforeAll(() => {
  dir = fs.realpathSync(makeTempDir());
  fixture = loadFixture();
});
afterAll(() => {
  expect(fixture.livePaths()).toEqual([]);
  removeTempDir(dir);
});

/** Runs `body` in a worker_thread that has `addon` (the fixture) and `workerData` in scope. */
function runWorker<T>(body: string, data: Record<string, unknown>): Promise<T> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = require(workerData.addonPath);
    Promise.resolve().then(async () => { ${body} }).then(
      (r) => parentPort.postMessage({ ok: r }),
      (e) => parentPort.postMessage({ error: String(e && e.stack || e) }));`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { ...data, addonPath: FIXTURE_ADDON } });
    let result: { ok?: T; error?: string } | undefined;
    w.on('message', (m) => (result = m));
    w.on('error', reject);
    w.on('exit', () => (result && 'ok' in result ? resolve(result.ok as T) : reject(new Error(result?.error ?? 'worker exited'))));
  });
}

describe('one process, one engine per path', () => {
  test('a second open of a live path shares the engine; the pool closes with the last handle', () => {
    const file = fresh();
    const a = fixture.open({ path: file, ...create });
    const b = fixture.open({ path: file });
    a.put('k', 'from a');
    expect(b.get('k')?.toString()).toBe('from a');
    expect(fixture.livePaths()).toEqual([file]);
    a.close();
    b.put('k2', 'from b');
    expect(b.count(undefined)).toBe(2);
    // While open, libpmemobj holds the pool's lock: a check from outside the engine must fail.
    expect(thrown(() => checkPool(file)).message).toContain(file);
    b.close();
    expect(fixture.livePaths()).toEqual([]);
    expect(checkPool(file)).toBe(true);
    const c = fixture.open({ path: file });
    expect(c.count(undefined)).toBe(2);
    c.close();
  });

  test('paths are keyed by their real path, also before the file exists', () => {
    const file = fresh();
    const link = path.join(dir, 'link-dir');
    fs.symlinkSync(dir, link);
    const a = fixture.open({ path: path.join(dir, '.', path.basename(file)), ...create });
    const b = fixture.open({ path: path.join(link, path.basename(file)) });
    const c = fixture.open({ path: path.relative(process.cwd(), file) });
    a.put('k', 'v');
    expect(b.get('k')?.toString()).toBe('v');
    expect(c.get('k')?.toString()).toBe('v');
    expect(fixture.livePaths()).toEqual([file]);
    for (const h of [a, b, c]) h.close();
    expect(fixture.livePaths()).toEqual([]);
  });

  test('create_or_error_if_exists on a live path is INVALID_ARGUMENT', () => {
    const file = fresh();
    const a = fixture.open({ path: file, ...create });
    const e = thrown(() => fixture.open({ path: file, size: 8 * MiB, create_or_error_if_exists: true }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('already exists (it is open in this process)');
    a.close();
  });

  test('closing one handle does not close the others', () => {
    const file = fresh();
    const handles = Array.from({ length: 5 }, () => fixture.open({ path: file, ...create }));
    handles[0].put('k', 'v');
    for (const h of handles.slice(0, 4)) h.close();
    expect(handles[4].get('k')?.toString()).toBe('v');
    expect(thrown(() => handles[0].get('k')).message).toBe('database is closed');
    handles[4].close();
    expect(fixture.livePaths()).toEqual([]);
  });
});

describe('worker_threads', () => {
  test('a worker shares the engine of a path the main thread has open', async () => {
    const file = fresh();
    const db = fixture.open({ path: file, ...create });
    db.put('main', '1');
    const seen = await runWorker<string>(
      `const db = addon.open({ path: workerData.file });
       for (let i = 0; i < 100; i++) db.put('w' + i, String(i));
       const main = db.get('main').toString();
       db.close();
       return main;`,
      { file },
    );
    expect(seen).toBe('1');
    expect(db.count(undefined)).toBe(101);
    expect(db.get('w99')?.toString()).toBe('99');
    db.close();
    expect(fixture.livePaths()).toEqual([]);
  });

  test('a worker that exits without closing releases its handle at teardown', async () => {
    const file = fresh();
    const paths = await runWorker<string[]>(
      `const db = addon.open({ path: workerData.file, size: ${8 * MiB}, create_if_missing: true });
       db.put('left', 'open');
       return addon.livePaths();`,
      { file },
    );
    expect(paths).toEqual([file]);
    expect(fixture.livePaths()).toEqual([]);
    const db = fixture.open({ path: file });
    expect(db.get('left')?.toString()).toBe('open');
    db.close();
  });

  test('workers writing at once through one serialized engine lose nothing', async () => {
    const file = fresh();
    const db = fixture.open({ path: file, ...create });
    const body = `const db = addon.open({ path: workerData.file });
      for (let i = 0; i < 300; i++) db.put(workerData.prefix + i, 'x');
      const pending = [];
      for (let i = 0; i < 100; i++) pending.push(db.async.put(workerData.prefix + 'async' + i, 'y'));
      await Promise.all(pending);
      db.close();
      return 0;`;
    await Promise.all(['a', 'b', 'c'].map((prefix) => runWorker(body, { file, prefix })));
    expect(db.count(undefined)).toBe(1200);
    db.close();
  });
});

describe('worker teardown', () => {
  // A serialized engine settles async work through a thread-safe function of the worker's
  // environment, which Node frees when the worker exits; the executor thread may still be
  // releasing its hold on it then. Run in a child process so that a crash is a result here.
  test('workers that exit as soon as their async writes settle do not crash the process', () => {
    const file = fresh();
    const script = `
      const { Worker } = require('node:worker_threads');
      const addon = require(${JSON.stringify(FIXTURE_ADDON)});
      const file = ${JSON.stringify(file)};
      const db = addon.open({ path: file, size: ${8 * MiB}, create_if_missing: true });
      const code = \`const { workerData } = require('node:worker_threads');
        const addon = require(workerData.addon);
        const db = addon.open({ path: workerData.file });
        (async () => {
          for (let i = 0; i < 20; i++) await db.async.put(workerData.prefix + i, 'v');
          db.close();
          process.exit(0);
        })();\`;
      let started = 0;
      const one = () => new Promise((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { addon: ${JSON.stringify(FIXTURE_ADDON)}, file, prefix: 'w' + started++ + '-' } });
        w.on('error', reject);
        w.on('exit', resolve);
      });
      const lane = async () => { while (started < 120) await one(); };
      Promise.all([lane(), lane(), lane(), lane()]).then(() => {
        process.stdout.write(String(db.count(undefined)));
        db.close();
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 120_000 });
    expect({ signal: r.signal, status: r.status, stderr: r.stderr }).toEqual({ signal: null, status: 0, stderr: '' });
    expect(Number(r.stdout)).toBe(120 * 20);
  });
});

describe('garbage collection', () => {
  test('a handle that is never closed releases the engine once collected', () => {
    const file = fresh();
    const script = `
      const addon = require(${JSON.stringify(FIXTURE_ADDON)});
      (function () {
        const db = addon.open({ path: ${JSON.stringify(file)}, size: ${8 * MiB}, create_if_missing: true });
        db.put('k', 'v');
      })();
      const before = addon.livePaths().length;
      let rounds = 0;
      (function collect() {
        globalThis.gc();
        if (addon.livePaths().length === 0 || ++rounds > 50) {
          process.stdout.write(JSON.stringify({ before, after: addon.livePaths().length }));
        } else setImmediate(collect);
      })();`;
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ before: 1, after: 0 });
  });
});

describe('engines opened without a path', () => {
  test('get a fresh instance each, outside the registry', () => {
    const a = fixture.open({ volatile: true });
    const b = fixture.open({ volatile: true });
    a.put('k', 'a');
    expect(b.get('k')).toBeUndefined();
    expect(fixture.livePaths()).toEqual([]);
    // The engine's own defaults: no count, no walk.
    expect(thrown(() => a.count(undefined)).code).toBe('NOT_SUPPORTED');
    expect(thrown(() => a.scan(undefined, false, Infinity)).code).toBe('NOT_SUPPORTED');
    a.close();
    expect(b.exists('k')).toBe(false);
    b.close();
  });
});
