/**
 * The demo: opens every installed engine, puts, gets, iterates and removes, and for persistent
 * engines reopens the pool to show the data survived; for volatile engines (vmap, vcmap) shows
 * two handles sharing one instance by name, that nothing survives the last close, the `size`
 * limit and the file-backed heap in a directory. Pools live in a folder that outlives the
 * process (PMEMKV_DEMO_DIR, default /dev/shm/pmemkv-demo), so a second run shows what the
 * first wrote. Run it with `pnpm demo` at the repository root.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findEngine, listEngines, open, PmemkvError } from '@pmemkv/core';

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

  if (caps.persistent) {
    const again = open(name, { path });
    console.log(`reopened: countAll() -> ${again.countAll()}, get('fruit:plum') -> ${JSON.stringify(again.get('fruit:plum'))}, get('fruit:banana') -> ${JSON.stringify(again.get('fruit:banana'))}, runs so far -> ${again.get('demo:runs')}`);
    again.close();
  }
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

function main(): void {
  mkdirSync(dir, { recursive: true });
  const engines = listEngines();
  console.log(`pmemkv for Node.js demo. Installed engines: ${engines.join(', ')}`);
  console.log(`pool folder: ${dir}${process.env.PMEM_IS_PMEM_FORCE === '1' ? ' (PMEM_IS_PMEM_FORCE=1: treated as persistent memory)' : ''}`);
  let failed = false;
  for (const name of engines) {
    try {
      demoEngine(name);
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
  section('done');
  console.log(`Run the demo again to see the persistent engines find this run's data in ${dir}.`);
  if (failed) process.exitCode = 1;
}

main();
