/**
 * The child process of the reopen workload (workloads/reopen.ts): opens an existing store in a
 * fresh process, so the anonymous memory it holds after open is measured alone (no memory
 * freed by an earlier instance to reuse), gets one present key, and prints
 * `{"seconds": s, "anonBytes": b}`. argv[2]: JSON { ref, path, key (hex; absent: an empty
 * store, nothing to get) }.
 */
import { readFileSync } from 'node:fs';
import { loadDriver, type StoreRef } from './stores';

export function anonymousRssBytes(): number {
  const m = /^RssAnon:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

async function main(): Promise<void> {
  const { ref, path, key } = JSON.parse(process.argv[2]!) as { ref: StoreRef; path: string; key?: string };
  const driver = loadDriver(ref, undefined);
  const k = Buffer.from(key ?? '', 'hex');
  const before = anonymousRssBytes();
  const t0 = process.hrtime.bigint();
  const store = await driver.open(path, false);
  const found = key === undefined ? k : await store.get(k);
  const t1 = process.hrtime.bigint();
  const after = anonymousRssBytes();
  await store.close();
  if (found === undefined) throw new Error(`key ${k.toString()} is missing after reopen`);
  process.stdout.write(JSON.stringify({ seconds: Number(t1 - t0) / 1e9, anonBytes: after - before }));
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
