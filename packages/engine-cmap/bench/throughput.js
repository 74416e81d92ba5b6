'use strict';
// Single-thread sync throughput of the cmap engine through @pmemkv/core:
// fill (put of new keys), overwrite (put of existing keys), get (hits), each over N keys of
// 16 bytes with 100-byte values, every put durable when it returns (its own publish).
//
//   PMEM_IS_PMEM_FORCE=1 node bench/throughput.js [N=1000000] [dir=/dev/shm]
//
// Needs `pnpm run build` first. The pool lives in a fresh temp directory, removed at the end.
// Machines here are noisy: compare runs side by side, not across days.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { open, registerEngine } = require('@pmemkv/core');
const plugin = require('../dist/index.js').default;

const N = Number(process.argv[2] ?? 1_000_000);
const base = process.argv[3] ?? (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
const KEY_SIZE = 16;
const VALUE_SIZE = 100;

registerEngine(plugin);
const dir = fs.mkdtempSync(path.join(base, 'pmemkv-cmap-bench-'));
try {
  // Entries take ~170 bytes with allocator headers; buckets 16 bytes each; leave headroom.
  const size = Math.max(64 << 20, N * 512);
  const db = open('cmap', { path: path.join(dir, 'pool'), size, create_if_missing: 1 }, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  // Keys are written into one reused buffer per operation (as db_bench does): the zero-padded
  // decimal of a key number, so the loops time the engine rather than the JS heap.
  const key = Buffer.alloc(KEY_SIZE);
  const setKey = (n) => {
    for (let at = KEY_SIZE - 1; at >= 0; at--, n = Math.floor(n / 10)) key[at] = 0x30 + (n % 10);
    return key;
  };
  const value = Buffer.alloc(VALUE_SIZE, 0x76);
  // One random permutation of the key numbers: every key once per phase, in random order.
  const order = new Uint32Array(N);
  for (let i = 0; i < N; i++) order[i] = i;
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }

  const rate = (label, fn) => {
    const t0 = process.hrtime.bigint();
    fn();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const perSecond = N / seconds;
    console.log(`${label.padEnd(10)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} ops/s  (${(1e6 / perSecond).toFixed(3)} µs/op)`);
    return perSecond;
  };

  console.log(`cmap sync, 1 thread, ${N.toLocaleString('en-US')} keys of ${KEY_SIZE} B, values of ${VALUE_SIZE} B, pool on ${base}, PMEM_IS_PMEM_FORCE=${process.env.PMEM_IS_PMEM_FORCE ?? ''}`);
  rate('fill', () => {
    for (let i = 0; i < N; i++) db.put(setKey(order[i]), value);
  });
  rate('overwrite', () => {
    for (let i = 0; i < N; i++) db.put(setKey(order[i]), value);
  });
  let found = 0;
  rate('get', () => {
    for (let i = 0; i < N; i++) if (db.get(setKey(order[i])) !== undefined) found++;
  });
  if (found !== N || db.countAll() !== N) throw new Error(`expected ${N} entries, found ${found} (count ${db.countAll()})`);
  db.close();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
