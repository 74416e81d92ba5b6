/**
 * The fuzz campaign's worker (`node child.js <spec JSON>`): runs `spec.ops` seeded random
 * operations on one engine and checks each result against the model (model.ts).
 *
 * stdout, one line each: `ok <n>` after every 1,000 operations, then `done <n>`; on the first
 * divergence `diverge <json: { op, what }>` and exit code 1 (the model and the engine no
 * longer describe the same data, so later operations would prove nothing).
 *
 * Operations: put, get, exists, remove, countAll, batch (with repeated keys: last op wins),
 * transaction commit and abort (engines with atomic batches), getAll with early stops; sorted engines also every count and
 * get range variant and entries/keys/values with every option (gt, gte, lt, lte, reverse,
 * limit); unsorted engines with iterators: entries/keys/values compared as sets, with limit.
 * Persistent engines close and reopen now and then; the model must survive it unchanged.
 */
import { open, type Database } from '@pmemkv/core';
import { say } from '../child-io';
import { registerFrom } from '../engines';
import { Rng } from '../random';
import { showBytes } from '../temp';
import { KeyMaker } from './keys';
import { Model, type Bounds, type Entry } from './model';

export interface FuzzSpec {
  readonly packageDir: string;
  readonly engine: string;
  readonly seed: number;
  readonly ops: number;
  readonly config: Record<string, unknown>;
  /** Config to reopen with (persistent engines); absent: never reopen. */
  readonly reopenConfig?: Record<string, unknown>;
}

type Db = Database<Buffer, Buffer>;

class Divergence extends Error {}

function show(b: Buffer | undefined): string {
  if (b === undefined) return '<absent>';
  return b.length > 24 ? `${showBytes(b.subarray(0, 24))}...(${b.length} B)` : showBytes(b);
}

function showList(entries: readonly Entry[]): string {
  return `${entries.length} entries [${entries.slice(0, 4).map(([k, v]) => `${show(k)}=${show(v)}`).join(', ')}${entries.length > 4 ? ', ...' : ''}]`;
}

function firstDifference(want: readonly Entry[], got: readonly Entry[]): string {
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    const w = want[i];
    const g = got[i];
    if (w === undefined || g === undefined || !w[0].equals(g[0]) || !w[1].equals(g[1])) {
      return `first difference at position ${i}: expected ${w ? `${show(w[0])}=${show(w[1])}` : '<end>'}, got ${g ? `${show(g[0])}=${show(g[1])}` : '<end>'}`;
    }
  }
  return 'no difference';
}

function sameEntries(what: string, want: readonly Entry[], got: readonly Entry[], ordered: boolean): void {
  const canon = (l: readonly Entry[]) => (ordered ? l : [...l].sort((a, b) => Buffer.compare(a[0], b[0]) || Buffer.compare(a[1], b[1])));
  const w = canon(want);
  const g = canon(got);
  if (w.length !== g.length || w.some((e, i) => !e[0].equals(g[i]![0]) || !e[1].equals(g[i]![1]))) {
    throw new Divergence(`${what}: expected ${showList(w)}, got ${showList(g)}; ${firstDifference(w, g)}`);
  }
}

function equal<T>(what: string, want: T, got: T): void {
  if (want !== got) throw new Divergence(`${what}: expected ${String(want)}, got ${String(got)}`);
}

function main(): void {
  const spec = JSON.parse(process.argv[2] ?? '') as FuzzSpec;
  const plugin = registerFrom(spec.packageDir);
  const caps = plugin.capabilities;
  const rng = new Rng(spec.seed);
  const keys = new KeyMaker(rng, {
    ...(caps.fixedSize !== undefined ? { fixedSize: caps.fixedSize } : {}),
    ...(caps.maxKeySize !== undefined && Number.isFinite(caps.maxKeySize) ? { maxKeySize: caps.maxKeySize } : {}),
  });
  const model = new Model();
  const encodings = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
  let db: Db = open(spec.engine, spec.config, encodings);

  /** An existing key most of the time (when there are any), else any key. */
  const someKey = (): Buffer => (model.size > 0 && rng.chance(0.6) ? model.keyAt(rng.int(model.size)) : keys.key());
  const stopAfter = (): number => (rng.chance(0.7) ? Infinity : rng.int(6));
  const walk = (what: string, want: readonly Entry[], run: (cb: (k: Buffer, v: Buffer) => boolean) => boolean, ordered: boolean) => {
    const stop = stopAfter();
    const got: Entry[] = [];
    const stopped = run((k, v) => {
      got.push([Buffer.from(k), Buffer.from(v)]);
      return got.length > stop;
    });
    const expectStop = want.length > stop;
    equal(`${what} (stop after ${stop + 1}) returned stopped`, expectStop, stopped);
    if (ordered || !expectStop) sameEntries(what, expectStop ? want.slice(0, stop + 1) : want, got, ordered);
    else equal(`${what} (stop after ${stop + 1}) visited`, stop + 1, got.length);
  };

  const checkGet = (k: Buffer) => {
    const got = db.get(k);
    const want = model.get(k);
    if (want === undefined ? got !== undefined : got === undefined || !want.equals(got)) throw new Divergence(`get(${show(k)}): expected ${show(want)}, got ${show(got)}`);
  };

  const rangeOps: (() => string)[] = [];
  if (caps.sorted) {
    const counts: [string, (k: Buffer) => Bounds][] = [
      ['Above', (k) => ({ lower: k })],
      ['EqualAbove', (k) => ({ lower: k, lowerInclusive: true })],
      ['Below', (k) => ({ upper: k })],
      ['EqualBelow', (k) => ({ upper: k, upperInclusive: true })],
    ];
    rangeOps.push(() => {
      const [name, bounds] = rng.pick(counts);
      const k = someKey();
      equal(`count${name}(${show(k)})`, model.count(bounds(k)), (db as unknown as Record<string, (k: Buffer) => number>)[`count${name}`]!(k));
      return `count${name}`;
    });
    rangeOps.push(() => {
      const a = someKey();
      const b = someKey();
      equal(`countBetween(${show(a)}, ${show(b)})`, model.count({ lower: a, upper: b }), db.countBetween(a, b));
      return 'countBetween';
    });
    rangeOps.push(() => {
      const [name, bounds] = rng.pick(counts);
      const k = someKey();
      const method = (db as unknown as Record<string, (k: Buffer, cb: (k: Buffer, v: Buffer) => boolean) => boolean>)[`get${name}`]!.bind(db);
      walk(`get${name}(${show(k)})`, model.entries(bounds(k)), (cb) => method(k, cb), true);
      return `get${name}`;
    });
    rangeOps.push(() => {
      const a = someKey();
      const b = rng.chance(0.2) ? a : someKey();
      walk(`getBetween(${show(a)}, ${show(b)})`, model.entries({ lower: a, upper: b }), (cb) => db.getBetween(a, b, cb), true);
      return 'getBetween';
    });
  }
  const iterate = (): string => {
    const options: Record<string, unknown> = {};
    const bounds: { lower?: Buffer; lowerInclusive?: boolean; upper?: Buffer; upperInclusive?: boolean } = {};
    if (caps.sorted) {
      if (rng.chance(0.5)) {
        const k = someKey();
        const inclusive = rng.chance(0.5);
        options[inclusive ? 'gte' : 'gt'] = k;
        bounds.lower = k;
        bounds.lowerInclusive = inclusive;
      }
      if (rng.chance(0.5)) {
        const k = someKey();
        const inclusive = rng.chance(0.5);
        options[inclusive ? 'lte' : 'lt'] = k;
        bounds.upper = k;
        bounds.upperInclusive = inclusive;
      }
    }
    const reverse = caps.reverse && rng.chance(0.4);
    if (reverse) options.reverse = true;
    else if (caps.reverse && rng.chance(0.1)) options.reverse = false;
    const limit = rng.chance(0.6) ? Infinity : rng.pick([0, 1, 2, 5, 17, -1]);
    if (limit !== Infinity || rng.chance(0.1)) options.limit = limit;
    const effective = limit < 0 ? Infinity : limit;
    const all = model.entries(bounds, reverse);
    const want = caps.sorted ? all.slice(0, effective) : all;
    const kind = rng.pick(['entries', 'keys', 'values'] as const);
    const what = `${kind}(${JSON.stringify(options, (_k, v: unknown) => (v !== null && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? show(Buffer.from((v as { data: number[] }).data)) : v))})`;
    const got: Entry[] = [];
    if (kind === 'entries') for (const [k, v] of db.entries(options)) got.push([Buffer.from(k), Buffer.from(v)]);
    else if (kind === 'keys') for (const k of db.keys(options)) got.push([Buffer.from(k), Buffer.alloc(0)]);
    else for (const v of db.values(options)) got.push([Buffer.alloc(0), Buffer.from(v)]);
    const project = (l: readonly Entry[]): Entry[] => l.map(([k, v]) => [kind === 'values' ? Buffer.alloc(0) : k, kind === 'keys' ? Buffer.alloc(0) : v]);
    if (caps.sorted || effective >= all.length) {
      sameEntries(what, project(want), got, caps.sorted);
    } else {
      equal(`${what} yielded`, effective, got.length);
      if (kind !== 'values') for (const [k] of got) if (model.get(k) === undefined) throw new Divergence(`${what} yielded ${show(k)}, which is not in the database`);
    }
    return kind;
  };

  for (let i = 0; i < spec.ops; i++) {
    let name = '';
    try {
      const x = rng.next();
      const crowded = model.size > 250;
      if (x < 0.28) {
        name = 'put';
        const k = crowded ? someKey() : keys.key();
        const v = keys.value();
        db.put(k, v);
        model.put(k, v);
      } else if (x < 0.4) {
        name = 'get';
        checkGet(someKey());
      } else if (x < 0.45) {
        name = 'exists';
        const k = someKey();
        equal(`exists(${show(k)})`, model.get(k) !== undefined, db.exists(k));
      } else if (x < (crowded ? 0.62 : 0.55)) {
        name = 'remove';
        const k = someKey();
        equal(`remove(${show(k)})`, model.remove(k), db.remove(k));
      } else if (x < 0.6) {
        name = 'batch';
        const n = rng.between(0, 20);
        const ops: ({ type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer })[] = [];
        for (let j = 0; j < n; j++) {
          const k = j > 0 && rng.chance(0.2) ? ops[rng.int(ops.length)]!.key : someKey();
          ops.push(rng.chance(0.7) ? { type: 'put', key: k, value: keys.value() } : { type: 'del', key: k });
        }
        if (rng.chance(0.5)) db.batch(ops);
        else {
          const chained = db.batch();
          for (const op of ops) op.type === 'put' ? chained.put(op.key, op.value) : chained.del(op.key);
          chained.write();
        }
        for (const op of ops) op.type === 'put' ? model.put(op.key, op.value) : model.remove(op.key);
      } else if (x < 0.62 && caps.transactions) {
        const commit = rng.chance(0.7);
        name = commit ? 'transaction commit' : 'transaction abort';
        const tx = db.transaction();
        const ops: [Buffer, Buffer | undefined][] = [];
        for (let j = rng.between(1, 8); j > 0; j--) {
          const k = someKey();
          if (rng.chance(0.7)) {
            const v = keys.value();
            tx.put(k, v);
            ops.push([k, v]);
          } else {
            tx.remove(k);
            ops.push([k, undefined]);
          }
        }
        if (commit) {
          tx.commit();
          for (const [k, v] of ops) v === undefined ? model.remove(k) : model.put(k, v);
        } else tx.abort();
      } else if (x < 0.65) {
        name = 'countAll';
        equal('countAll()', model.size, db.countAll());
      } else if (x < 0.7) {
        name = 'getAll';
        walk('getAll()', model.entries(), (cb) => db.getAll(cb), caps.sorted);
      } else if (x < 0.85 && rangeOps.length > 0) {
        name = rng.pick(rangeOps)();
      } else if (x < 0.92 && caps.iterators) {
        name = iterate();
      } else if (x >= 0.9995 && spec.reopenConfig !== undefined) {
        name = 'close and reopen';
        db.close();
        db = open(spec.engine, spec.reopenConfig, encodings);
        equal('countAll() after reopen', model.size, db.countAll());
        walk('getAll() after reopen', model.entries(), (cb) => db.getAll(cb), caps.sorted);
      } else {
        name = 'get';
        checkGet(someKey());
      }
    } catch (err) {
      const what = err instanceof Divergence ? err.message : `${name} threw ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err)}`;
      say(`diverge ${JSON.stringify({ op: i, what })}`);
      process.exit(1);
    }
    if ((i + 1) % 1000 === 0) say(`ok ${i + 1}`);
  }
  say(`done ${spec.ops}`);
  db.close();
}

main();
