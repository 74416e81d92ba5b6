// The campaigns' own judges must be able to fail: the crash judge rejects a lost acknowledged
// write and a half-applied atomic batch, the fuzz model keeps pmemkv's bound semantics, and
// the command line refuses what it does not know.
import { describe, expect, test } from '@jest/globals';
import { parseArgs } from '../src/cli';
import { candidates, replay, sameState, type Model } from '../src/crash/judge';
import { crashPlan, type CrashSpec, type PlanOp } from '../src/crash/plan';
import { digest } from '../src/crash/state';
import { Model as Reference } from '../src/fuzz/model';

const spec: CrashSpec = { packageDir: '/nowhere', engine: 'x', config: {}, seed: 3, round: 1, keys: 8, ops: 400, shape: 'random' };
const empty = (): Model => new Array<null>(spec.keys).fill(null);
const ops: PlanOp[] = [...crashPlan(spec)];

describe('crash judge', () => {
  test('the plan is a pure function of its spec', () => {
    expect([...crashPlan(spec)].map((o) => JSON.stringify(o))).toEqual(ops.map((o) => JSON.stringify(o)));
  });

  test('a state missing an acknowledged put matches no candidate', () => {
    const lastPut = ops.findIndex((o, i) => i > 10 && o.type === 'put');
    const { acked, inFlight } = replay(empty(), spec, lastPut, false);
    const op = ops[lastPut] as { key: number; value: Buffer };
    expect(acked[op.key]).toBe(digest(op.value));
    const lost = acked.slice();
    lost[op.key] = null;
    const ok = candidates(acked, inFlight, true).some((c) => sameState(c, lost));
    // Only legal if the in-flight op removes that very key.
    const inFlightRemovesIt = inFlight !== undefined && inFlight.type === 'del' && inFlight.key === op.key;
    expect(ok).toBe(inFlightRemovesIt);
  });

  test('a batch in flight: all or nothing when atomic, any prefix otherwise', () => {
    // A batch whose first operation changes its key and which touches another key too.
    const at = ops.findIndex((o, i) => {
      if (o.type !== 'batch' || o.ops.length < 3) return false;
      const before = replay(empty(), spec, i - 1, true).acked;
      const f = o.ops[0]!;
      const changes = before[f.key] !== (f.type === 'put' ? digest(f.value) : null);
      return changes && o.ops.some((x) => x.key !== f.key) && o.ops.every((x, j) => j === 0 || x.key !== f.key);
    });
    expect(at).toBeGreaterThan(0);
    const { acked, inFlight } = replay(empty(), spec, at - 1, false);
    expect(inFlight).toEqual(ops[at]);
    const batch = ops[at] as { ops: readonly { type: string; key: number; value?: Buffer }[] };
    const first = batch.ops[0]!;
    const half = acked.slice();
    half[first.key] = first.type === 'put' ? digest(first.value!) : null;
    const full = acked.slice();
    for (const o of batch.ops) full[o.key] = o.type === 'put' ? digest(o.value!) : null;
    const atomic = candidates(acked, inFlight, true);
    expect(atomic.some((c) => sameState(c, acked))).toBe(true);
    expect(atomic.some((c) => sameState(c, full))).toBe(true);
    expect({ halfIsOld: sameState(half, acked), halfIsNew: sameState(half, full) }).toEqual({ halfIsOld: false, halfIsNew: false });
    expect(atomic.some((c) => sameState(c, half))).toBe(false);
    expect(candidates(acked, inFlight, false).some((c) => sameState(c, half))).toBe(true);
  });
});

describe('fuzz reference model', () => {
  const m = new Reference();
  for (const k of ['', '\0', 'a', 'a\0', 'ab', 'b', '\xff']) m.put(Buffer.from(k, 'latin1'), Buffer.from(`v${k}`, 'latin1'));
  const keys = (l: readonly (readonly [Buffer, Buffer])[]) => l.map(([k]) => k.toString('latin1'));

  test('bytewise order, a shorter prefix first', () => {
    expect(keys(m.entries())).toEqual(['', '\0', 'a', 'a\0', 'ab', 'b', '\xff']);
    expect(keys(m.entries({}, true, 2))).toEqual(['\xff', 'b']);
  });

  test('bounds: above >, equalAbove >=, below <, equalBelow <=, between open; inverted is empty', () => {
    const a = Buffer.from('a');
    const b = Buffer.from('b');
    expect(m.count({ lower: a })).toBe(4);
    expect(m.count({ lower: a, lowerInclusive: true })).toBe(5);
    expect(m.count({ upper: a })).toBe(2);
    expect(m.count({ upper: a, upperInclusive: true })).toBe(3);
    expect(keys(m.entries({ lower: a, upper: b }))).toEqual(['a\0', 'ab']);
    expect(m.count({ lower: b, upper: a })).toBe(0);
    expect(m.count({ lower: a, upper: a })).toBe(0);
  });
});

describe('command line', () => {
  test('options parse, and unknown or malformed ones are refused', () => {
    expect(parseArgs(['--seed', '7', '--count=5', '--engines', 'cmap,tree3', '--mode', 'long'])).toEqual({ seed: 7, count: 5, engines: ['cmap', 'tree3'], mode: 'long' });
    expect(() => parseArgs(['--sed', '1'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--mode', 'fast'])).toThrow(/ci or long/);
    expect(() => parseArgs(['--count', '-1'])).toThrow(/whole number/);
    expect(() => parseArgs(['--engines', ''])).toThrow(/engine names/);
  });
});
