/**
 * The crash test's writer (run as `node crash-child.js <spec JSON>`; the parent kills it with
 * SIGKILL at a random moment).
 *
 * Protocol on stdout, one line each: `ready` once the pool is open, then `ack <seq>` after
 * operation `seq` of the plan (crash-plan.ts) has returned, then `done` if the plan ran out.
 * An acknowledgment is written only after the operation returned, with a blocking write, so
 * when the parent has read `ack <seq>` the operation had completed; at most the one operation
 * after the last acknowledged one was in flight at the kill.
 */
import { writeSync } from 'node:fs';
import { open, registerEngine, type EnginePlugin } from '../index';
import { crashKey, crashPlan, type CrashSpec, type SimpleOp } from './crash-plan';

/** Writes all of `line` to stdout, retrying if the pipe is momentarily full. */
function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(1, bytes, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as CrashSpec;
  if (spec.pluginModule !== undefined) {
    const mod = require(spec.pluginModule) as { default?: EnginePlugin; plugin?: EnginePlugin } & EnginePlugin;
    registerEngine(mod.default ?? mod.plugin ?? mod);
  }
  const db = open(spec.engine, spec.config, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const key = (id: number) => crashKey(spec, id);
  const toBatch = (op: SimpleOp) => (op.type === 'put' ? { type: 'put' as const, key: key(op.key), value: op.value } : { type: 'del' as const, key: key(op.key) });
  say('ready');
  let seq = 0;
  for (const op of crashPlan(spec)) {
    if (op.type === 'put') db.put(key(op.key), op.value);
    else if (op.type === 'del') db.remove(key(op.key));
    else db.batch(op.ops.map(toBatch));
    say(`ack ${seq}`);
    seq++;
  }
  say('done');
  db.close();
}

main();
