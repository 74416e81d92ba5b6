'use strict';
// Scaling of the cmap engine with threads: the same sync workload run by 1 worker thread and
// then by T worker threads at once, all on one pool (the addon shares one engine between
// them); each worker works on its own key range. Prints ops/s and the T-thread / 1-thread ratio.
//
//   PMEM_IS_PMEM_FORCE=1 node bench/threads.js [N per thread=500000] [T=2] [dir=/dev/shm]
//
// Needs `pnpm run build` first. Use a machine with at least T idle cores; the ratio means
// nothing when other work competes for them.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Worker, isMainThread, workerData, parentPort } = require('node:worker_threads');
const { open, registerEngine } = require('@pmemkv/core');
registerEngine(require('../dist/index.js').default);

const KEY_SIZE = 16;
const VALUE_SIZE = 100;

function worker() {
  const { poolPath, first, count, phase, barrier } = workerData;
  const db = open('cmap', { path: poolPath }, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const key = Buffer.alloc(KEY_SIZE);
  const setKey = (n) => {
    for (let at = KEY_SIZE - 1; at >= 0; at--, n = Math.floor(n / 10)) key[at] = 0x30 + (n % 10);
    return key;
  };
  const value = Buffer.alloc(VALUE_SIZE, 0x76);
  const gate = new Int32Array(barrier);
  Atomics.add(gate, 0, 1);
  while (Atomics.load(gate, 1) === 0) Atomics.wait(gate, 1, 0, 20);
  // Multiplicative stride: a pseudo-random order over [first, first + count).
  const step = 2654435761 % count || 1;
  let found = 0;
  for (let i = 0, j = 0; i < count; i++, j = (j + step) % count) {
    if (phase === 'get') found += db.get(setKey(first + j)) !== undefined ? 1 : 0;
    else db.put(setKey(first + j), value);
  }
  db.close();
  parentPort.postMessage({ found });
}

async function run(poolPath, phase, threads, perThread, offset) {
  const barrier = new SharedArrayBuffer(8);
  const gate = new Int32Array(barrier);
  const workers = Array.from({ length: threads }, (_, t) =>
    new Worker(__filename, { workerData: { poolPath, first: offset + t * perThread, count: perThread, phase, barrier } }),
  );
  const done = workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); }));
  while (Atomics.load(gate, 0) < threads) await new Promise((r) => setTimeout(r, 2));
  const t0 = process.hrtime.bigint();
  Atomics.store(gate, 1, 1);
  Atomics.notify(gate, 1);
  const results = await Promise.all(done);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (phase === 'get' && results.some((r) => r.found !== perThread)) throw new Error('a get missed');
  return (threads * perThread) / seconds;
}

async function main() {
  const perThread = Number(process.argv[2] ?? 500_000);
  const threads = Number(process.argv[3] ?? 2);
  const base = process.argv[4] ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const dir = fs.mkdtempSync(path.join(base, 'pmemkv-cmap-threads-'));
  try {
    const poolPath = path.join(dir, 'pool');
    const total = perThread * (1 + threads);
    open('cmap', { path: poolPath, size: Math.max(64 << 20, total * 512), create_if_missing: 1 }).close();
    console.log(`cmap sync, ${perThread.toLocaleString('en-US')} ops per thread, keys ${KEY_SIZE} B, values ${VALUE_SIZE} B, ${os.cpus().length} CPUs`);
    // Fill: 1 thread fills range 0, then T threads fill ranges 1..T (the table keeps growing).
    const fill1 = await run(poolPath, 'put', 1, perThread, 0);
    const fillT = await run(poolPath, 'put', threads, perThread, perThread);
    const over1 = await run(poolPath, 'put', 1, perThread, 0);
    const overT = await run(poolPath, 'put', threads, perThread, perThread);
    const get1 = await run(poolPath, 'get', 1, perThread, 0);
    const getT = await run(poolPath, 'get', threads, perThread, perThread);
    const row = (label, one, many) =>
      console.log(`${label.padEnd(10)} 1 thread ${Math.round(one).toLocaleString('en-US').padStart(11)} ops/s   ${threads} threads ${Math.round(many).toLocaleString('en-US').padStart(11)} ops/s   x${(many / one).toFixed(2)}`);
    row('fill', fill1, fillT);
    row('overwrite', over1, overT);
    row('get', get1, getT);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) main().catch((err) => { console.error(err); process.exitCode = 1; });
else worker();
