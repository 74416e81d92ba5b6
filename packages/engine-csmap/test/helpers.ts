// Shared fixtures of the csmap tests: a fresh pool directory per test (under /dev/shm when it
// exists), removed afterwards; `open` for csmap through @pmemkv/core; worker threads started
// together on one pool.
import { afterEach, beforeEach } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { open, registerEngine, type Database } from '@pmemkv/core';
import plugin from '../src/index';

if (process.env.PMEM_IS_PMEM_FORCE === undefined) process.env.PMEM_IS_PMEM_FORCE = '1';
registerEngine(plugin);

export const MiB = 1024 * 1024;
export const buffers = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
/** The compiled plugin, for worker threads and child processes (they load it by path). */
export const pluginModule = path.join(__dirname, '..', 'dist', 'index.js');

/** Registers hooks giving each test a fresh directory, removed after the test. */
export function usePoolDir(): { dir(): string; pool(name?: string): string } {
  let current: string | undefined;
  beforeEach(() => {
    current = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'pmemkv-csmap-'));
  });
  afterEach(() => {
    if (current !== undefined) fs.rmSync(current, { recursive: true, force: true });
    current = undefined;
  });
  const dir = (): string => {
    if (current === undefined) throw new Error('usePoolDir: no test is running');
    return current;
  };
  return { dir, pool: (name = 'pool') => path.join(dir(), name) };
}

/** Opens (creating when missing) the csmap database at `poolPath` with Buffer keys and values. */
export function openCsmap(poolPath: string, extra: Record<string, unknown> = {}, size = 64 * MiB): Database<Buffer, Buffer> {
  return open('csmap', { path: poolPath, size, create_if_missing: 1, ...extra }, buffers);
}

/** `n` as a fixed-width key: `prefix` + 8 decimal digits. */
export function key(prefix: string, n: number): Buffer {
  return Buffer.from(`${prefix}${String(n).padStart(8, '0')}`);
}

/** Every entry of `db` in walk order, as [key, value] latin1 strings; throws on a key seen twice. */
export function entriesOf(db: Database<Buffer, Buffer>): [string, string][] {
  const out: [string, string][] = [];
  const seen = new Set<string>();
  db.getAll((k, v) => {
    const ks = k.toString('latin1');
    if (seen.has(ks)) throw new Error(`key ${ks} walked twice`);
    seen.add(ks);
    out.push([ks, v.toString('latin1')]);
  });
  return out;
}

export interface WorkerJob {
  mode: 'disjoint' | 'overlap' | 'insert';
  worker: number;
  first?: number;
  count?: number;
  rounds?: number;
  seed?: number;
}

/**
 * Starts one worker thread per job on the pool at `poolPath` (fixtures/writer-worker.js),
 * releases them together once every one has opened the pool, and resolves with their reports.
 */
export async function runWorkers<R>(poolPath: string, jobs: WorkerJob[]): Promise<R[]> {
  const barrier = new SharedArrayBuffer(8);
  const gate = new Int32Array(barrier);
  const workers = jobs.map(
    (job) =>
      new Worker(path.join(__dirname, 'fixtures', 'writer-worker.js'), {
        workerData: { ...job, path: poolPath, pluginModule, barrier },
      }),
  );
  const results = workers.map(
    (worker) =>
      new Promise<R>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => code !== 0 && reject(new Error(`worker exited with ${code}`)));
      }),
  );
  while (Atomics.load(gate, 0) < jobs.length) await new Promise((r) => setTimeout(r, 5));
  Atomics.store(gate, 1, 1);
  Atomics.notify(gate, 1);
  return Promise.all(results);
}
