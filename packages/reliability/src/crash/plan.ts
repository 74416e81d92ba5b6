/**
 * The crash campaign's operation plans. A plan is a pure function of its spec, so the writer
 * child and the parent enumerate the same operations and the parent knows what every
 * acknowledged operation did from its sequence number alone.
 *
 * Operations: put of a new key, overwrite (a new length almost every time), remove, and batches
 * of 2 to 64 puts/removes. Values are 0 B to 64 KiB; a value's bytes are derived from
 * (key id, round, seq), so a torn or mixed value equals no value the plan ever wrote.
 * Fixed-size engines get keys and values of exactly their size.
 */
import { Rng as Random } from '../random';

export interface CrashSpec {
  /** Package directory the child loads the engine plugin from. */
  readonly packageDir: string;
  readonly engine: string;
  readonly config: Record<string, unknown>;
  readonly seed: number;
  readonly round: number;
  /** Distinct key ids [0, keys). */
  readonly keys: number;
  readonly fixedSize?: number;
  readonly maxKeySize?: number;
  /** Operations in the plan; the child prints `done` after the last. */
  readonly ops: number;
  /** `script`: the deterministic mode's fixed mix (put, overwrite, remove, batch, repeated). */
  readonly shape: 'random' | 'script';
  /**
   * A pool to read back first (deterministic mode: the previous kill's pool), reported as the
   * `state` line instead of this spec's own pool, which is then only written.
   */
  readonly verify?: Record<string, unknown>;
}

export type SimpleOp = { readonly type: 'put'; readonly key: number; readonly value: Buffer } | { readonly type: 'del'; readonly key: number };
export type PlanOp = SimpleOp | { readonly type: 'batch'; readonly ops: readonly SimpleOp[] };

const KiB = 1024;

export function crashKey(spec: Pick<CrashSpec, 'fixedSize' | 'maxKeySize'>, id: number): Buffer {
  if (spec.fixedSize !== undefined) return Buffer.from(`k${id}`.padStart(spec.fixedSize, '_').slice(-spec.fixedSize));
  const text = `crash-key-${id}`;
  return Buffer.from(spec.maxKeySize !== undefined && spec.maxKeySize < text.length ? String(id) : text);
}

export function crashValue(spec: Pick<CrashSpec, 'fixedSize'>, id: number, round: number, seq: number, length: number): Buffer {
  if (spec.fixedSize !== undefined) {
    return new Random((id * 0x9e3779b1) ^ (round * 0x85ebca6b) ^ (seq * 0xc2b2ae35) ^ 0x5bd1e995).bytes(spec.fixedSize);
  }
  const out = Buffer.allocUnsafe(length);
  const header = Buffer.from(`${id}/${round}/${seq}/`);
  header.copy(out, 0, 0, Math.min(length, header.length));
  for (let j = header.length; j < length; j++) out[j] = (id * 31 + round * 17 + seq * 13 + j) & 0xff;
  return out;
}

/** 0 B to 64 KiB: empty, small, a few KiB, and large values up to exactly 64 KiB. */
function valueLength(rng: Random): number {
  const r = rng.next();
  if (r < 0.08) return 0;
  if (r < 0.4) return rng.between(1, 64);
  if (r < 0.75) return rng.between(65, 4 * KiB);
  if (r < 0.97) return rng.between(4 * KiB + 1, 64 * KiB - 1);
  return 64 * KiB;
}

/** The operations of `spec`, in order; operation `seq` is the seq-th yielded item. */
export function* crashPlan(spec: CrashSpec): Generator<PlanOp> {
  const rng = new Random(spec.seed ^ Math.imul(spec.round + 1, 0x27d4eb2f));
  const put = (seq: number, key: number): SimpleOp => ({ type: 'put', key, value: crashValue(spec, key, spec.round, seq, valueLength(rng)) });
  const simple = (seq: number): SimpleOp => {
    const key = rng.int(spec.keys);
    return rng.chance(0.3) ? { type: 'del', key } : put(seq, key);
  };
  for (let seq = 0; seq < spec.ops; seq++) {
    if (spec.shape === 'script') {
      // put k, overwrite k, remove k, batch (2 puts, overwrite, remove): every kind in 4 ops.
      const k = (Math.floor(seq / 4) * 3) % spec.keys;
      switch (seq % 4) {
        case 0:
        case 1:
          yield put(seq, k);
          break;
        case 2:
          yield { type: 'del', key: k };
          break;
        default:
          yield { type: 'batch', ops: [put(seq, (k + 1) % spec.keys), put(seq, (k + 2) % spec.keys), put(seq, k), { type: 'del', key: (k + 1) % spec.keys }] };
      }
      continue;
    }
    if (rng.chance(0.15)) {
      const n = rng.chance(0.8) ? rng.between(2, 8) : rng.between(9, 64);
      yield { type: 'batch', ops: Array.from({ length: n }, () => simple(seq)) };
    } else {
      yield simple(seq);
    }
  }
}
