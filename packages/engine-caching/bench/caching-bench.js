'use strict';
/**
 * Read-heavy workload through the caching engine vs. the same workload straight to Redis with
 * the same client (ioredis): 90 % gets of random keys from a set that fits the local tier, 10 %
 * puts, a fixed number of operations in flight. Prints both rates and their ratio.
 *
 *   node bench/caching-bench.js [--keys 10000] [--ops 200000] [--value 100] [--inflight 32]
 *                               [--subengine cmap|vcmap|tree3] [--port <redis port>] [--rounds 3]
 *
 * Without --port it starts its own redis-server (no persistence) on a free loopback port and
 * stops it at the end. Pools go to /dev/shm (run with PMEM_IS_PMEM_FORCE=1, as `pnpm run bench` does).
 * Machines here are noisy: compare the ratio within one run, not absolute rates across runs.
 */
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { createConnection, createServer } = require('node:net');
const { join } = require('node:path');
const Redis = require('ioredis');
const { open, registerEngine } = require('@pmemkv/core');
const { plugin } = require('../dist/index.js');

function args() {
  const out = { keys: 10000, ops: 200000, value: 100, inflight: 32, subengine: 'cmap', port: 0, rounds: 3 };
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in out)) throw new Error(`unknown option ${argv[i]}: use --keys --ops --value --inflight --subengine --port --rounds`);
    out[name] = name === 'subengine' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise((resolve) => {
      const c = createConnection({ host: '127.0.0.1', port });
      c.once('connect', () => (c.destroy(), resolve(true)));
      c.once('error', () => resolve(false));
    });
    if (ok) return { port, stop: () => child.kill('SIGKILL') };
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

/** xorshift32: the same operation sequence for both runs. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const keyOf = (i) => `key-${String(i).padStart(8, '0')}`;

/** Runs `ops` operations, `inflight` at a time; returns operations per second. */
async function run(o, get, put) {
  const next = rng(12345);
  const value = Buffer.alloc(o.value, 'v');
  let issued = 0;
  const worker = async () => {
    while (issued < o.ops) {
      issued++;
      const key = keyOf(Math.floor(next() * o.keys));
      if (next() < 0.9) await get(key);
      else await put(key, value);
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: o.inflight }, worker));
  return o.ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function main() {
  const o = args();
  const redis = o.port === 0 ? await startRedis() : { port: o.port, stop() {} };
  const dir = mkdtempSync(join('/dev/shm', 'pmemkv-caching-bench-'));
  registerEngine(plugin);
  const subengineConfig = o.subengine === 'vcmap' ? {} : { path: join(dir, 'pool'), size: Math.max(64 << 20, o.keys * (o.value + 200) * 4), create_if_missing: 1 };
  const db = open('caching', { remote_type: 'redis', port: redis.port, key_prefix: 'bench:', subengine: o.subengine, subengine_config: subengineConfig }, { valueEncoding: 'buffer' });
  const direct = new Redis({ host: '127.0.0.1', port: redis.port, keyPrefix: 'direct:' });
  try {
    const value = Buffer.alloc(o.value, 'v');
    for (let i = 0; i < o.keys; i++) {
      await Promise.all([db.promises.put(keyOf(i), value), direct.set(keyOf(i), value)]);
    }
    // Alternate the two workloads and keep each one's best round: on a shared machine a burst of
    // load from elsewhere then hurts one round of each, not one workload.
    let cached = 0;
    let straight = 0;
    for (let round = 0; round < o.rounds; round++) {
      straight = Math.max(straight, await run(o, (k) => direct.getBuffer(k), (k, v) => direct.set(k, v)));
      cached = Math.max(cached, await run(o, (k) => db.promises.get(k), (k, v) => db.promises.put(k, v)));
    }
    const fmt = (n) => `${Math.round(n).toLocaleString('en-US')} ops/s`;
    console.log(`caching-bench: ${o.keys} keys, ${o.ops} ops (90 % get, 10 % put), ${o.value} B values, ${o.inflight} in flight, local tier ${o.subengine}, best of ${o.rounds} alternating rounds`);
    console.log(`  caching (${o.subengine} + redis): ${fmt(cached)}`);
    console.log(`  redis direct (ioredis):      ${fmt(straight)}`);
    console.log(`  ratio caching / direct:      ${(cached / straight).toFixed(2)}x`);
  } finally {
    db.close();
    direct.disconnect();
    redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
