/**
 * The crash test's workload, shared by the writer child and the verifying parent: both derive
 * the same operation sequence from the same spec, so the parent knows exactly what each
 * acknowledged operation did without any channel but the acknowledgment lines.
 *
 * Keys are `crash-<id>` for ids below `spec.keys`. A value is derived from its key id, the round
 * and the operation's sequence number, and its length varies from empty to a few KiB, so every
 * overwrite changes the length and a torn or mixed value never equals any value the parent
 * expects.
 */
import type { Random } from './random';
import { Random as Rng } from './random';

export interface CrashSpec {
  readonly engine: string;
  /** Module the child loads the plugin from; absent: the child finds the engine by name. */
  readonly pluginModule?: string;
  /** The config the child opens the pool with. */
  readonly config: Record<string, unknown>;
  readonly seed: number;
  readonly round: number;
  /** Number of distinct keys. */
  readonly keys: number;
  /** Exact key and value size of fixed-size engines. */
  readonly fixedSize?: number;
  /** Largest key the engine takes. */
  readonly maxKeySize?: number;
  /** Upper bound on operations; the child exits 0 after the last one. */
  readonly maxOps: number;
}

export type SimpleOp = { readonly type: 'put'; readonly key: number; readonly value: Buffer } | { readonly type: 'del'; readonly key: number };
export type PlanOp = SimpleOp | { readonly type: 'batch'; readonly ops: readonly SimpleOp[] };

/** The key bytes of key id `id`. */
export function crashKey(spec: Pick<CrashSpec, 'fixedSize' | 'maxKeySize'>, id: number): Buffer {
  if (spec.fixedSize !== undefined) return Buffer.from(String(id).padStart(spec.fixedSize, 'k').slice(-spec.fixedSize));
  const text = `crash-${id}`;
  return Buffer.from(spec.maxKeySize !== undefined && spec.maxKeySize < text.length ? String(id) : text);
}

/** The value the operation `seq` of `round` writes under key `id`, `length` bytes long (fixed size when set). */
export function crashValue(spec: Pick<CrashSpec, 'fixedSize'>, id: number, round: number, seq: number, length: number): Buffer {
  if (spec.fixedSize !== undefined) {
    const g = new Rng((id * 0x9e3779b1) ^ (round * 0x85ebca6b) ^ (seq * 0xc2b2ae35));
    return g.bytes(spec.fixedSize);
  }
  const out = Buffer.allocUnsafe(length);
  const header = Buffer.from(`${id}/${round}/${seq}/`);
  header.copy(out, 0, 0, Math.min(length, header.length));
  for (let j = header.length; j < length; j++) out[j] = (id * 31 + round * 17 + seq * 13 + j) & 0xff;
  return out;
}

/**
 * Value lengths: empty, short, medium and a few KiB, so that nearly every overwrite changes the
 * length. Capped at 6000 bytes: the test is about crash consistency, and libpmemobj gives every
 * size class of larger allocations runs of its own, so many distinct large sizes would fill the
 * small pools tests use long before the data does (large values are covered by binary safety).
 */
function valueLength(rng: Random): number {
  const r = rng.next();
  if (r < 0.1) return 0;
  if (r < 0.45) return rng.between(1, 40);
  if (r < 0.85) return rng.between(41, 600);
  return rng.between(601, 6000);
}

/** The operations of `spec`, in order. Operation `seq` is the seq-th item (batches count once). */
export function* crashPlan(spec: CrashSpec): Generator<PlanOp> {
  const rng = new Rng(spec.seed ^ Math.imul(spec.round + 1, 0x27d4eb2f));
  const simple = (seq: number): SimpleOp => {
    const key = rng.int(spec.keys);
    if (rng.chance(0.3)) return { type: 'del', key };
    return { type: 'put', key, value: crashValue(spec, key, spec.round, seq, valueLength(rng)) };
  };
  for (let seq = 0; seq < spec.maxOps; seq++) {
    if (rng.chance(0.2)) {
      // Batches of 2 to 200 operations, most of them small: a kill often lands inside a large one.
      const n = rng.chance(0.7) ? rng.between(2, 12) : rng.between(13, 200);
      yield { type: 'batch', ops: Array.from({ length: n }, () => simple(seq)) };
    } else {
      yield simple(seq);
    }
  }
}
