'use strict';
// tree3 benchmark: recovery (reopen) time, DRAM bytes per key, and single-thread put/get
// throughput through @pmemkv/core's public API.
//
//   PMEM_IS_PMEM_FORCE=1 node bench/tree3-bench.js [--keys 1000000] [--dir /dev/shm] [--json]
//   (the `bench` script of package.json; build the package first)
//
// Workload (pmemkv-bench style): N distinct 16-byte keys ("%016d" of a random permutation of
// 0..N-1 scaled over 10^15), 100-byte random values, in a pool on /dev/shm.
//   1. fill: N puts in random key order (new keys: inserts and leaf splits)      -> put/s
//   2. overwrite: N/2 puts of existing keys in random order                      -> put/s
//   3. close, then in a fresh process: RssAnon before open, open (the engine walks the leaves and
//      rebuilds its DRAM index), RssAnon after                                   -> reopen ms, DRAM bytes/key
//   4. in that process: N gets of existing keys in random order                 -> get/s
//      and N gets of missing keys                                                -> get/s (misses)
//   5. the same reopen measurement on an empty pool of the same size               -> fixed DRAM cost
// DRAM bytes per key = (RssAnon after open - RssAnon before open) / N, read from
// /proc/self/status in a fresh process that has done nothing else, with a GC before each
// reading, so it counts what open allocated (the engine's inner nodes and leaf caches, malloc
// overhead, and libpmemobj's own per-pool runtime state) and not the pool, which is a shared
// file mapping (RssShmem/RssFile, not RssAnon). The empty pool's delta is the fixed part
// (libpmemobj's runtime state, independent of the keys); (delta - fixed) / N is the engine's
// index per key.
// The machine is shared and noisy: compare numbers within one run, not across runs.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { open, registerEngine } = require('@pmemkv/core');
const plugin = require('../dist/index.js').default;

registerEngine(plugin);

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const N = Number(arg('--keys', '1000000'));
if (!(N >= 0)) throw new Error('--keys must be a number');
const VALUE_SIZE = 100;
const encodings = { keyEncoding: 'buffer', valueEncoding: 'buffer' };

/** Keys in a deterministic random order: key(i) for i < N are distinct, 16 ASCII digits. */
function makeKeys(n, salt) {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let x = 0x9e3779b9 ^ salt;
  const rand = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = rand() % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const stride = Math.floor(1e15 / n);
  return Array.from(order, (id) => Buffer.from(String(id * stride + salt).padStart(16, '0')));
}

function rssAnonBytes() {
  const m = /RssAnon:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return Number(m[1]) * 1024;
}

function gc() {
  if (global.gc) {
    global.gc();
    global.gc();
  }
}

function mib(bytes) {
  return (bytes / 1048576).toFixed(1);
}

function rate(ops, ms) {
  return Math.round((ops / ms) * 1000);
}

function poolSize(n) {
  // libpmemobj rounds a 124-byte pair up to a 192-byte unit; leaves, logs and slack on top.
  return Math.max(64 * 1024 * 1024, Math.ceil((n * 320) / (1 << 20)) * (1 << 20));
}

// Child mode: reopen, measure, read (N = 0: an empty pool, only the reopen is measured).
function reopenAndRead(poolPath) {
  // Nothing is allocated before the readings (the key lists come after them), so the V8 heap
  // neither grows nor shrinks between them.
  gc();
  const before = rssAnonBytes();
  const t0 = performance.now();
  const db = open('tree3', { path: poolPath }, encodings);
  const reopenMs = performance.now() - t0;
  gc();
  const after = rssAnonBytes();
  if (db.countAll() !== N) throw new Error(`reopened with ${db.countAll()} keys, expected ${N}`);
  if (N === 0) {
    db.close();
    process.stdout.write(JSON.stringify({ reopenMs, rssAnonDelta: after - before }));
    return;
  }
  const keys = makeKeys(N, 7);
  const missing = makeKeys(N, 3);

  let t = performance.now();
  let found = 0;
  for (let i = 0; i < N; i++) if (db.get(keys[i]) !== undefined) found++;
  const getMs = performance.now() - t;
  if (found !== N) throw new Error(`found ${found} of ${N} keys`);
  t = performance.now();
  for (let i = 0; i < N; i++) if (db.get(missing[i]) !== undefined) throw new Error('a missing key was found');
  const missMs = performance.now() - t;
  db.close();
  process.stdout.write(
    JSON.stringify({
      reopenMs,
      rssAnonDelta: after - before,
      getPerSec: rate(N, getMs),
      getMissPerSec: rate(N, missMs),
    }),
  );
}

function main() {
  const base = arg('--dir', fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const dir = fs.mkdtempSync(path.join(base, 'pmemkv-tree3-bench-'));
  const poolPath = path.join(dir, 'bench.pool');
  try {
    const keys = makeKeys(N, 7);
    const value = Buffer.alloc(VALUE_SIZE);
    for (let i = 0; i < VALUE_SIZE; i++) value[i] = (i * 37 + 11) & 0xff;

    const db = open('tree3', { path: poolPath, size: poolSize(N), create_if_missing: 1 }, encodings);
    let t = performance.now();
    for (let i = 0; i < N; i++) {
      value.writeUInt32LE(i, 0);
      db.put(keys[i], value);
    }
    const fillMs = performance.now() - t;
    const half = Math.floor(N / 2);
    t = performance.now();
    for (let i = 0; i < half; i++) {
      value.writeUInt32LE(i ^ 0x5a5a5a5a, 0);
      db.put(keys[(i * 7919) % N], value);
    }
    const overwriteMs = performance.now() - t;
    if (db.countAll() !== N) throw new Error(`countAll ${db.countAll()} after the fill, expected ${N}`);
    db.close();

    const reopen = (pool, keys) =>
      JSON.parse(
        execFileSync(process.execPath, ['--expose-gc', __filename, '--reopen', pool, '--keys', String(keys)], {
          env: process.env,
          encoding: 'utf8',
          maxBuffer: 1 << 20,
        }),
      );
    const child = reopen(poolPath, N);
    const emptyPath = path.join(dir, 'empty.pool');
    open('tree3', { path: emptyPath, size: poolSize(N), create_if_missing: 1 }).close();
    const empty = reopen(emptyPath, 0);
    const result = {
      engine: 'tree3',
      keys: N,
      keySize: 16,
      valueSize: VALUE_SIZE,
      medium: `${base} (PMEM_IS_PMEM_FORCE=${process.env.PMEM_IS_PMEM_FORCE ?? 'unset'})`,
      node: process.version,
      fillPutPerSec: rate(N, fillMs),
      overwritePutPerSec: rate(half, overwriteMs),
      reopenMs: Math.round(child.reopenMs * 10) / 10,
      emptyReopenMs: Math.round(empty.reopenMs * 10) / 10,
      rssAnonDeltaBytes: child.rssAnonDelta,
      fixedRssAnonBytes: empty.rssAnonDelta,
      dramBytesPerKey: Math.round((child.rssAnonDelta / N) * 10) / 10,
      indexBytesPerKey: Math.round(((child.rssAnonDelta - empty.rssAnonDelta) / N) * 10) / 10,
      getPerSec: child.getPerSec,
      getMissPerSec: child.getMissPerSec,
    };
    if (args.includes('--json')) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const rows = [
        ['keys', `${N} x 16 B keys, ${VALUE_SIZE} B values, ${result.medium}`],
        ['fill (random inserts)', `${result.fillPutPerSec.toLocaleString('en')} put/s`],
        ['overwrite (random)', `${result.overwritePutPerSec.toLocaleString('en')} put/s`],
        ['reopen (recovery)', `${result.reopenMs} ms (an empty pool of the same size: ${result.emptyReopenMs} ms)`],
        ['DRAM per key (RssAnon)', `${result.dramBytesPerKey} bytes (open added ${mib(result.rssAnonDeltaBytes)} MiB)`],
        ['  of which fixed', `${mib(result.fixedRssAnonBytes)} MiB (reopen of an empty pool: libpmemobj runtime)`],
        ['  index per key', `${result.indexBytesPerKey} bytes (leaf caches + inner nodes)`],
        ['get (random hits)', `${result.getPerSec.toLocaleString('en')} get/s`],
        ['get (misses)', `${result.getMissPerSec.toLocaleString('en')} get/s`],
      ];
      for (const [k, v] of rows) process.stdout.write(`${k.padEnd(24)} ${v}\n`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === '--reopen') reopenAndRead(args[1]);
else main();
