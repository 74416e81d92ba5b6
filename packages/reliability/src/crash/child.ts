/**
 * The crash campaign's writer (`node child.js <spec JSON>`), killed by the parent with SIGKILL
 * (random mode) or by the barrier shim at its Nth persist barrier (deterministic mode).
 *
 * stdout, one line each: `state <json>` (what the pool holds on open, see state.ts; or what
 * `spec.verify`'s pool holds, read and closed before the spec's own pool is opened), `ready`,
 * `ack <seq>` after operation seq of the plan returned, `done` after the last one. An ack is
 * written only after its operation returned, so at most the operation after the last ack was
 * in flight at the kill. PMEMKV_BARRIER_ARMED is 1 exactly while the plan runs.
 */
import { open } from '@pmemkv/core';
import { say } from '../child-io';
import { registerFrom } from '../engines';
import { crashKey, crashPlan, type CrashSpec, type SimpleOp } from './plan';
import { dumpState } from './state';

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as CrashSpec;
  const plugin = registerFrom(spec.packageDir);
  const dump = (config: Record<string, unknown>) => {
    const db = open(spec.engine, config, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    say(`state ${JSON.stringify(dumpState(db, spec, plugin.capabilities.sorted, plugin.capabilities.iterators))}`);
    return db;
  };
  if (spec.verify !== undefined) dump(spec.verify).close();
  const db = spec.verify !== undefined ? open(spec.engine, spec.config, { keyEncoding: 'buffer', valueEncoding: 'buffer' }) : dump(spec.config);
  const key = (id: number) => crashKey(spec, id);
  const toBatch = (op: SimpleOp) => (op.type === 'put' ? { type: 'put' as const, key: key(op.key), value: op.value } : { type: 'del' as const, key: key(op.key) });
  say('ready');
  process.env.PMEMKV_BARRIER_ARMED = '1';
  let seq = 0;
  for (const op of crashPlan(spec)) {
    if (op.type === 'put') db.put(key(op.key), op.value);
    else if (op.type === 'del') db.remove(key(op.key));
    else db.batch(op.ops.map(toBatch));
    say(`ack ${seq}`);
    seq++;
  }
  process.env.PMEMKV_BARRIER_ARMED = '0';
  say('done');
  db.close();
}

main();
