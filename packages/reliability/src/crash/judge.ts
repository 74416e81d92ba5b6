/**
 * Judging a reopened pool against the plan: the parent's model is one digest per key id (null:
 * absent). After a kill, every acknowledged operation must be there and the one in flight must
 * have left the state before it or after it; a batch all or nothing on engines with atomic
 * batches (`transactions`), else any prefix of its operations.
 */
import { crashPlan, type CrashSpec, type PlanOp, type SimpleOp } from './plan';
import { digest, type Digest } from './state';

export type Model = Digest[];

function applySimple(model: Model, op: SimpleOp): void {
  model[op.key] = op.type === 'put' ? digest(op.value) : null;
}

function apply(model: Model, op: PlanOp): void {
  if (op.type === 'batch') op.ops.forEach((o) => applySimple(model, o));
  else applySimple(model, op);
}

/** The model after the acknowledged operations 0..lastAck, and the operation in flight (if any). */
export function replay(start: Model, spec: CrashSpec, lastAck: number, finished: boolean): { acked: Model; inFlight?: PlanOp } {
  const acked = start.slice();
  let seq = 0;
  for (const op of crashPlan(spec)) {
    if (seq > lastAck) return finished ? { acked } : { acked, inFlight: op };
    apply(acked, op);
    seq++;
  }
  return { acked };
}

/** Every state the in-flight operation may have left. */
export function candidates(acked: Model, inFlight: PlanOp | undefined, atomicBatch: boolean): Model[] {
  const out: Model[] = [acked];
  if (inFlight === undefined) return out;
  if (inFlight.type !== 'batch') {
    const after = acked.slice();
    apply(after, inFlight);
    out.push(after);
    return out;
  }
  let prefix = acked.slice();
  inFlight.ops.forEach((o, i) => {
    prefix = prefix.slice();
    applySimple(prefix, o);
    if (!atomicBatch || i === inFlight.ops.length - 1) out.push(prefix);
  });
  return out;
}

export function sameState(a: Model, b: Model): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Up to `max` differences between what was expected and what was found, for failure lines. */
export function describeDifferences(expected: Model, found: Model, max = 3): string {
  const out: string[] = [];
  for (let id = 0; id < expected.length && out.length < max; id++) {
    if (expected[id] !== found[id]) out.push(`key ${id}: expected ${expected[id] ?? '<absent>'}, found ${found[id] ?? '<absent>'}`);
  }
  return out.join('; ');
}
