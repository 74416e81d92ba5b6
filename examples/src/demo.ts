/**
 * The demo: opens every installed engine, puts, gets, iterates and removes, and for persistent
 * engines reopens the pool to show the data survived; for volatile engines (vmap, vcmap) shows
 * two handles sharing one instance by name, that nothing survives the last close, the `size`
 * limit and the file-backed heap in a directory. Engines with 8-byte keys and values
 * (robinhood) get 8-byte keys; engines with a `comparator` key (csmap, stree) show
 * reverse-bytewise order; the async-only caching engine runs in front of a redis-server of its
 * own (when one is installed); and pmemkv-level shows a sorted engine as a level database.
 * Pools live in a folder that outlives the process (PMEMKV_DEMO_DIR, default
 * /dev/shm/pmemkv-demo), so a second run shows what the first wrote. Run it with `pnpm demo` at
 * the repository root.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEngine, listEngines, open, PmemkvError } from '@pmemkv/core';
import { EntryStream } from 'level-read-stream';
import { PmemkvLevel } from 'pmemkv-level';

const dir = process.env.PMEMKV_DEMO_DIR ?? join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pmemkv-demo');
const POOL_SIZE = 64 * 1024 * 1024;

function section(title: string): void {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 60 - title.length))}`);
}

function demoEngine(name: string): void {
  const plugin = findEngine(name);
  const caps = plugin.capabilities;
  const flags = Object.entries(caps).filter(([, v]) => v === true).map(([k]) => k);
  section(`${name} (${plugin.packageName ?? 'registered'}${plugin.version ? `@${plugin.version}` : ''}): ${flags.join(', ') || 'no capabilities'}`);

  const path = join(dir, `${name}.pool`);
  const config = caps.persistent ? { path, size: POOL_SIZE, create_if_missing: 1 } : {};
  if (caps.persistent) console.log(`pool: ${path} (${existsSync(path) ? 'exists: reopening it' : 'new: creating it'})`);
  if (caps.fixedSize !== undefined) return demoFixedSize(name, caps.fixedSize, path, config);

  const db = open(name, config);
  const runs = Number(db.get('demo:runs') ?? '0');
  if (caps.persistent) {
    if (runs === 0) console.log('first run on this pool: nothing stored yet');
    else console.log(`found the data of ${runs} earlier run(s); the last one wrote at ${db.get('demo:last-run')}`);
  }
  db.put('demo:runs', String(runs + 1));
  db.put('demo:last-run', new Date().toISOString());

  const fruits: Record<string, string> = { apple: 'red', banana: 'yellow', cherry: 'dark red', kiwi: 'green', plum: 'purple' };
  for (const [k, v] of Object.entries(fruits)) db.put(`fruit:${k}`, v);
  console.log(`put ${Object.keys(fruits).length} fruits; get('fruit:kiwi') -> ${JSON.stringify(db.get('fruit:kiwi'))}; exists('fruit:mango') -> ${db.exists('fruit:mango')}`);
  console.log(`countAll() -> ${db.countAll()}`);

  if (caps.sorted) {
    const range = [...db.entries({ gte: 'fruit:b', lt: 'fruit:l' })].map(([k, v]) => `${k}=${v}`);
    console.log(`entries({ gte: 'fruit:b', lt: 'fruit:l' }) in key order -> ${range.join(', ')}`);
    console.log(`countBetween('fruit:a', 'fruit:z') -> ${db.countBetween('fruit:a', 'fruit:z')}`);
  } else if (caps.iterators) {
    console.log(`entries() (engine order) -> ${[...db.entries()].map(([k]) => k).join(', ') || '(none)'}`);
  }
  console.log(`remove('fruit:banana') -> ${db.remove('fruit:banana')}; remove again -> ${db.remove('fruit:banana')}`);
  db.close();

  if (!caps.persistent && plugin.configSchema.properties?.name !== undefined) demoVolatile(name);
  if (plugin.configSchema.properties?.comparator !== undefined) demoComparator(name);

  if (caps.persistent) {
    const again = open(name, { path });
    console.log(`reopened: countAll() -> ${again.countAll()}, get('fruit:plum') -> ${JSON.stringify(again.get('fruit:plum'))}, get('fruit:banana') -> ${JSON.stringify(again.get('fruit:banana'))}, runs so far -> ${again.get('demo:runs')}`);
    again.close();
  }
}

/** An engine whose keys and values are all `size` bytes (robinhood: 8), e.g. counters by id. */
function demoFixedSize(name: string, size: number, path: string, config: Parameters<typeof open>[1]): void {
  const u64 = (n: number) => {
    const b = Buffer.alloc(size);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const db = open(name, config, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const runs = Number(db.get(u64(0))?.readBigUInt64LE() ?? 0n);
  console.log(runs === 0 ? 'first run on this pool: nothing stored yet' : `found the data of ${runs} earlier run(s)`);
  db.put(u64(0), u64(runs + 1));
  for (let id = 1; id <= 1000; id++) db.put(u64(id), u64(id * id));
  console.log(`keys and values are exactly ${size} bytes: put 1000 u64 squares; get(u64(12)) -> ${db.get(u64(12))?.readBigUInt64LE()}; countAll() -> ${db.countAll()}`);
  try {
    db.put(Buffer.from('too long a key'), u64(1));
  } catch (err) {
    console.log(`a 14-byte key is refused before native code: ${(err as PmemkvError).code}: ${(err as Error).message}`);
  }
  let n = 0;
  for (const _ of db.keys()) n++;
  console.log(`keys() walks all ${n} (engine order); remove(u64(12)) -> ${db.remove(u64(12))}`);
  db.close();
  const again = open(name, { path }, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  console.log(`reopened: countAll() -> ${again.countAll()}, runs so far -> ${again.get(u64(0))?.readBigUInt64LE()}`);
  again.close();
}

/** A sorted engine with the `comparator` key: the order is chosen at creation and kept by the pool. */
function demoComparator(name: string): void {
  const path = join(dir, `${name}-reverse.pool`);
  const db = open(name, { path, size: POOL_SIZE, create_if_missing: 1, comparator: 'reverse-bytewise' });
  for (const k of ['a', 'ab', 'b', 'c']) db.put(k, k.toUpperCase());
  console.log(`{ comparator: 'reverse-bytewise' }: keys() -> ${[...db.keys()].join(', ')}; countAbove('b') -> ${db.countAbove('b')} (above = later in the pool's order)`);
  db.close();
  try {
    open(name, { path, comparator: 'bytewise' });
  } catch (err) {
    console.log(`reopening it with another comparator: ${(err as PmemkvError).code}: ${(err as Error).message}`);
  }
}

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing accepts connections on port ${port}`);
}

/** The async-only caching engine, in front of a redis-server of the demo's own. */
async function demoCaching(name: string): Promise<void> {
  section(`${name} (${findEngine(name).packageName}): async only, a local sub-engine in front of Redis`);
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.log('redis-server is not installed (apt-get install redis-server): skipping this part of the demo');
    return;
  }
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  try {
    await waitForPort(port);
    const local = join(dir, 'caching-local.pool');
    const config = { remote_type: 'redis', port, ttl: 60, subengine: 'cmap', subengine_config: { path: local, size: POOL_SIZE, create_if_missing: 1 } };
    const db = open(name, config);
    try {
      db.put('k', 'v');
    } catch (err) {
      console.log(`sync calls are refused: ${(err as PmemkvError).code}: ${(err as Error).message}`);
    }
    await db.promises.put('fruit:kiwi', 'green');
    console.log(`promises.put wrote Redis (port ${port}) then the local cmap copy; promises.get -> ${JSON.stringify(await db.promises.get('fruit:kiwi'))} (from the local copy)`);
    db.close();
    const other = open(name, { ...config, subengine: 'vcmap', subengine_config: {} });
    console.log(`a second caching database with an empty DRAM tier reads it through from Redis: ${JSON.stringify(await other.promises.get('fruit:kiwi'))}; its tier now holds ${await other.promises.countAll()} entry`);
    other.close();
  } finally {
    redis.kill('SIGTERM');
  }
}

/** pmemkv-level: a sorted engine as an abstract-level database, with a sublevel and a read stream. */
async function demoLevel(): Promise<void> {
  section('pmemkv-level: tree3 as an abstract-level database');
  const path = join(dir, 'level-tree3.pool');
  rmSync(path, { force: true });
  const db = new PmemkvLevel(path, { engine: 'tree3', size: POOL_SIZE });
  const users = db.sublevel<string, string>('users', {});
  await users.batch([
    { type: 'put', key: 'ada', value: '1815' },
    { type: 'put', key: 'grace', value: '1906' },
  ]);
  await db.put('motd', 'hello');
  const rows: string[] = [];
  for await (const { key, value } of new EntryStream(users, {})) rows.push(`${String(key)}=${String(value)}`);
  console.log(`users sublevel through level-read-stream: ${rows.join(', ')}; db.get('motd') -> ${JSON.stringify(await db.get('motd'))}; supports.permanence -> ${db.supports.permanence}`);
  await db.close();
}

/** A volatile engine with pmemkv's placement keys: sharing by name, the size limit, a heap file in a directory. */
function demoVolatile(name: string): void {
  const one = open(name, { name: 'demo' });
  const two = open(name, { name: 'demo' });
  one.put('shared', 'written through the first handle');
  console.log(`two handles opened with { name: 'demo' } share one instance: the second reads ${JSON.stringify(two.get('shared'))}`);
  one.close();
  two.close();
  const fresh = open(name, { name: 'demo' });
  console.log(`after the last handle closed, a new open finds countAll() -> ${fresh.countAll()} (volatile: nothing survives close)`);
  fresh.close();

  const limited = open(name, { size: 1024 * 1024 });
  let stored = 0;
  try {
    for (; stored < 1e6; stored++) limited.put(`k${stored}`, 'x'.repeat(100));
  } catch (err) {
    console.log(`{ size: 1 MiB } is a hard limit: ${(err as PmemkvError).code} after ${stored} puts, all ${limited.countAll()} still readable`);
  }
  limited.close();

  const heapDir = join(dir, `${name}-heap`);
  mkdirSync(heapDir, { recursive: true });
  const fileBacked = open(name, { path: heapDir, size: 64 * 1024 * 1024 });
  fileBacked.put('in-a-file', 'this value lives in a temporary heap file in ' + heapDir);
  console.log(`{ path: '${heapDir}', size: 64 MiB }: data in a temporary heap file there (unlinked at once, freed at close): ${JSON.stringify(fileBacked.get('in-a-file'))}`);
  fileBacked.close();
}

async function main(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const engines = listEngines();
  console.log(`pmemkv for Node.js demo. Installed engines: ${engines.join(', ')}`);
  console.log(`pool folder: ${dir}${process.env.PMEM_IS_PMEM_FORCE === '1' ? ' (PMEM_IS_PMEM_FORCE=1: treated as persistent memory)' : ''}`);
  let failed = false;
  for (const name of engines) {
    try {
      if (findEngine(name).capabilities.sync === false) await demoCaching(name);
      else demoEngine(name);
    } catch (err) {
      failed = true;
      const code = err instanceof PmemkvError ? err.code : 'ERROR';
      console.log(`${name}: ${code}: ${(err as Error).message}`);
    }
  }
  if (engines.includes('vmap')) {
    section("pmemkv's former names");
    const legacy = open('vsmap', {});  // a DeprecationWarning (once per process): vsmap is now vmap
    legacy.put('k', 'v');
    console.log(`open('vsmap') opened vmap (with a one-time DeprecationWarning): get('k') -> ${JSON.stringify(legacy.get('k'))}`);
    legacy.close();
  }
  try {
    await demoLevel();
  } catch (err) {
    failed = true;
    console.log(`pmemkv-level: ${(err as Error).message}`);
  }
  section('done');
  console.log(`Run the demo again to see the persistent engines find this run's data in ${dir}.`);
  if (failed) process.exitCode = 1;
}

void main();
