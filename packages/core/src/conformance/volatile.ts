/**
 * Volatile engines (`capabilities.persistent` false). Every such engine lists the persistent
 * groups (PERSISTENT_GROUPS) as skipped, with the reason (index.ts); its "reopen finds nothing"
 * check is the volatility group of persistence.ts.
 *
 * Engines that take pmemkv's placement keys (option `volatilePlacement`: vmap, vcmap) also run
 * this placement group:
 *   - `path` that is not an existing directory (missing, a regular file) is INVALID_ARGUMENT
 *     and creates nothing;
 *   - `size` without `path` is a hard limit: puts end in OUT_OF_MEMORY, everything stored before
 *     stays readable, and removing entries makes room again;
 *   - with `path` (a directory) and `size`, the data is in a file of that directory while the
 *     database is open (found through the process's open files: the engine may unlink it at
 *     once), and after close no file of the directory is open and the directory is empty;
 *   - worker threads opening the same `path` (and, with `shareKey`, the same name without a
 *     path) share one instance with the main thread; it lives while any handle is open and is
 *     freed with the last one (the next open finds nothing).
 */
import { describe, expect } from '@jest/globals';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PmemkvError } from '../index';
import { expectCode } from './assert-error';
import type { Suite } from './suite';

const MIB = 1024 * 1024;

/** The persistent groups a volatile engine does not run. */
export const PERSISTENT_GROUPS = ['persistence', 'capacity', 'crash consistency', 'files that are not pools', 'mixed-size churn'] as const;

/** Files of `dir` this process holds open: [fd path under /proc/self/fd, link target]. */
function openFilesIn(dir: string): [string, string][] {
  const out: [string, string][] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    const link = join('/proc/self/fd', fd);
    let target: string;
    try {
      target = readlinkSync(link);
    } catch {
      continue;  // closed meanwhile (the readdir's own descriptor)
    }
    if (target.startsWith(`${dir}/`)) out.push([link, target]);
  }
  return out;
}

function workerScript(): string {
  for (const candidate of [join(__dirname, 'volatile-worker.js'), join(__dirname, '..', '..', 'dist', 'conformance', 'volatile-worker.js')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`volatile-worker.js is missing next to ${__dirname}: build @pmemkv/core first (pnpm run build)`);
}

interface Written {
  written: number;
  count: number;
}

/** Starts a worker that opens `config`, writes `count` keys and keeps its handle open until told. */
function startWriter(s: Suite, config: Record<string, unknown>, prefix: string, count: number) {
  const worker = new Worker(workerScript(), {
    workerData: { engine: s.engine, pluginModule: s.options.pluginModule, config, prefix, count },
  });
  // Listened to from the start: a worker's last messages and its exit can arrive in one turn.
  let told = false;
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const failed = new Promise<never>((_, reject) => {
    worker.once('error', reject);
    void exited.then((code) => {
      if (!told) reject(new Error(`the worker exited (code ${code}) before it was told to close`));
    });
  });
  failed.catch(() => {});
  const next = <T>() => Promise.race([new Promise<T>((resolve) => worker.once('message', resolve)), failed]);
  const written = next<Written>();
  return {
    written,
    async close(): Promise<void> {
      const closed = next<string>();
      told = true;
      worker.postMessage('close');
      expect(await closed).toBe('closed');
      expect(await exited).toBe(0);
    },
  };
}

export function volatilePlacement(s: Suite): void {
  if (s.options.volatilePlacement === undefined || s.behaviour !== 'store') return;
  const { shareKey } = s.options.volatilePlacement;
  const base = () => s.pool.config();

  describe('volatile placement', () => {
    s.usePool();

    s.test('a path that is not an existing directory is INVALID_ARGUMENT and creates nothing', () => {
      const missing = join(s.pool.dir, 'missing');
      expectCode('open with a missing path', () => s.pool.open({ ...base(), path: missing, size: 16 * MIB }), 'INVALID_ARGUMENT', missing);
      const file = join(s.pool.dir, 'file');
      writeFileSync(file, 'not a directory');
      expectCode('open with a regular file as path', () => s.pool.open({ ...base(), path: file, size: 16 * MIB }), 'INVALID_ARGUMENT', 'directory');
      expect(readFileSync(file, 'utf8')).toBe('not a directory');
      expect(readdirSync(s.pool.dir)).toEqual(['file']);
    });

    s.test('size without path is a hard limit: OUT_OF_MEMORY, everything stored before readable, room again after removes', () => {
      const db = s.pool.open({ ...base(), size: 4 * MIB });
      const value = 'v'.repeat(1000);
      let stored = 0;
      let refused: unknown;
      for (; stored < 100_000; stored++) {
        try {
          db.put(`key-${stored}`, value);
        } catch (err) {
          refused = err;
          break;
        }
      }
      expect(refused).toBeInstanceOf(PmemkvError);
      expect((refused as PmemkvError).code).toBe('OUT_OF_MEMORY');
      expect(stored).toBeGreaterThan(1000);
      expect(stored).toBeLessThan(4 * MIB / 1000);
      expect(db.countAll()).toBe(stored);
      for (let i = 0; i < stored; i++) expect(db.get(`key-${i}`)).toBe(value);
      expect(db.exists(`key-${stored}`)).toBe(false);
      for (let i = 0; i < stored; i += 2) expect(db.remove(`key-${i}`)).toBe(true);
      for (let i = 0; i < 10; i++) db.put(`again-${i}`, value);
      expect(db.countAll()).toBe(stored - Math.ceil(stored / 2) + 10);
    });

    s.test('with path, the data is in a file of that directory while open, and the file is gone after close', (rng) => {
      const dir = s.pool.dir;
      const db = s.pool.open({ ...base(), path: dir, size: 16 * MIB }, { valueEncoding: 'buffer' });
      const marker = rng.bytes(4096);
      db.put('marker', marker);
      const files = openFilesIn(dir);
      expect(files.length).toBe(1);
      expect(readFileSync(files[0]![0]).includes(marker)).toBe(true);
      expect(db.get('marker')?.equals(marker)).toBe(true);
      db.close();
      expect(openFilesIn(dir)).toEqual([]);
      expect(readdirSync(dir)).toEqual([]);
      const again = s.pool.open({ ...base(), path: dir, size: 16 * MIB });
      expect(again.countAll()).toBe(0);
      again.close();
      expect(openFilesIn(dir)).toEqual([]);
    });

    const configs: [string, () => Record<string, unknown>][] = [['the same path', () => ({ ...base(), path: s.pool.dir, size: 64 * MIB })]];
    if (shareKey !== undefined) configs.push([`the same ${shareKey} (no path)`, () => ({ ...base(), [shareKey]: `shared-${s.pool.dir}` })]);
    for (const [label, config] of configs) {
      s.test(`worker threads opening ${label} share one instance, freed with its last handle`, async () => {
        const cfg = config();
        const main = s.pool.open(cfg);
        main.put('main', 'opened first');
        const writers = [startWriter(s, cfg, 'w0-', 2000), startWriter(s, cfg, 'w1-', 2000)];
        const reports = await Promise.all(writers.map((w) => w.written));
        for (const r of reports) expect(r.count).toBeGreaterThanOrEqual(2001);
        expect(main.countAll()).toBe(4001);
        expect(main.get('w1-1999')).toBe('value of w1-1999');
        main.close();
        const whileWorkersHoldIt = s.pool.open(cfg);
        expect(whileWorkersHoldIt.countAll()).toBe(4001);
        whileWorkersHoldIt.close();
        await Promise.all(writers.map((w) => w.close()));
        const afterAll = s.pool.open(cfg);
        expect(afterAll.countAll()).toBe(0);
        afterAll.close();
      }, 60_000);
    }

    s.test('an open without path (and without a shared name) is private', () => {
      const one = s.pool.open({ ...base() });
      const two = s.pool.open({ ...base() });
      one.put('only-in-one', '1');
      expect(two.exists('only-in-one')).toBe(false);
    });
  });
}
