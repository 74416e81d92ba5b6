import { describe, expect, test } from '@jest/globals';
import { blackhole, CONTRACT_VERSION, open, PmemkvError, registerEngine, Status, type Capabilities, type EngineHandle, type EnginePlugin } from '../src';
import { toPmemkvError } from '../src/errors';

/** A handle over a plain Map that records every call it receives. */
function recordingPlugin(name: string, capabilities: Partial<Capabilities>, fail?: Error) {
  const calls: string[] = [];
  const data = new Map<string, Buffer>();
  const key = (k: Buffer | string) => Buffer.from(k as never).toString('latin1');
  const handle: EngineHandle = {
    put(k, v) {
      calls.push('put');
      if (fail) throw fail;
      data.set(key(k), Buffer.from(v as never));
    },
    get(k) {
      calls.push('get');
      const v = data.get(key(k));
      return v && Buffer.from(v);
    },
    exists: (k) => (calls.push('exists'), data.has(key(k))),
    remove: (k) => (calls.push('remove'), data.delete(key(k))),
    count: () => (calls.push('count'), data.size),
    scan: (_r, _rev, limit) => {
      calls.push('scan');
      return [...data].slice(0, limit).flatMap(([k, v]) => [Buffer.from(k, 'latin1'), Buffer.from(v)]);
    },
    // Walks in key order; the token is the last key handed out.
    scanUnordered: (token, limit) => {
      calls.push('scanUnordered');
      const after = token?.toString('latin1');
      const rest = [...data.keys()].sort().filter((k) => after === undefined || k > after);
      const chunk = rest.slice(0, limit);
      const entries = chunk.flatMap((k) => [Buffer.from(k, 'latin1'), Buffer.from(data.get(k)!)]);
      return chunk.length < rest.length ? { entries, next: Buffer.from(chunk[chunk.length - 1]!, 'latin1') } : { entries };
    },
    batch: () => void calls.push('batch'),
    defrag: () => void calls.push('defrag'),
    close: () => void calls.push('close'),
  };
  const plugin: EnginePlugin = {
    name,
    contractVersion: CONTRACT_VERSION,
    capabilities: { persistent: false, concurrent: false, sorted: false, iterators: false, reverse: false, transactions: false, defrag: false, ...capabilities },
    configSchema: { type: 'object', properties: {} },
    open: () => handle,
  };
  registerEngine(plugin);
  return { calls, data };
}

function thrown(fn: () => unknown): PmemkvError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PmemkvError);
    return err as PmemkvError;
  }
  throw new Error('expected a PmemkvError');
}

describe('errors', () => {
  test('Status carries pmemkv numbering', () => {
    expect(Status).toEqual({
      OK: 0, UNKNOWN_ERROR: 1, NOT_FOUND: 2, NOT_SUPPORTED: 3, INVALID_ARGUMENT: 4, CONFIG_PARSING_ERROR: 5, CONFIG_TYPE_ERROR: 6,
      STOPPED_BY_CB: 7, OUT_OF_MEMORY: 8, WRONG_ENGINE_NAME: 9, TRANSACTION_SCOPE_ERROR: 10, DEFRAG_ERROR: 11, COMPARATOR_MISMATCH: 12,
      POOL_LOCKED: 13,
    });
    const e = new PmemkvError('OUT_OF_MEMORY', 'full');
    expect([e.code, e.status, e.name, e instanceof Error]).toEqual(['OUT_OF_MEMORY', 8, 'PmemkvError', true]);
  });

  test('engine errors with a status code keep it; anything else is UNKNOWN_ERROR with a cause', () => {
    const coded = Object.assign(new Error('pool is full'), { code: 'OUT_OF_MEMORY' });
    expect(toPmemkvError(coded)).toMatchObject({ code: 'OUT_OF_MEMORY', status: 8, message: 'pool is full' });
    const plain = new TypeError('boom');
    const mapped = toPmemkvError(plain);
    expect(mapped).toMatchObject({ code: 'UNKNOWN_ERROR', status: 1 });
    expect(mapped.cause).toBe(plain);
    expect(toPmemkvError(Object.assign(new Error('x'), { code: 'ENOENT' })).code).toBe('UNKNOWN_ERROR');
  });

  test('a throwing engine surfaces as PmemkvError from sync and async calls', async () => {
    recordingPlugin('failing', {}, Object.assign(new Error('no space left in pool'), { code: 'OUT_OF_MEMORY' }));
    const db = open('failing');
    expect(thrown(() => db.put('a', 'b'))).toMatchObject({ code: 'OUT_OF_MEMORY', message: 'no space left in pool' });
    await expect(db.promises.put('a', 'b')).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
  });
});

describe('capabilities are enforced in core', () => {
  test('unsupported methods give NOT_SUPPORTED without reaching the engine', async () => {
    const { calls } = recordingPlugin('plain', {});
    const db = open('plain');
    db.put('a', '1');
    calls.length = 0;
    for (const call of [
      () => db.countAbove('a'), () => db.countEqualAbove('a'), () => db.countBelow('a'), () => db.countEqualBelow('a'),
      () => db.countBetween('a', 'b'), () => db.getAbove('a', () => {}), () => db.getEqualAbove('a', () => {}),
      () => db.getBelow('a', () => {}), () => db.getEqualBelow('a', () => {}), () => db.getBetween('a', 'b', () => {}),
      () => [...db.entries()], () => [...db.keys()], () => [...db.values()], () => db.defrag(),
    ]) {
      const e = thrown(call);
      expect(e.code).toBe('NOT_SUPPORTED');
      expect(e.message).toContain('plain');
    }
    await expect(db.promises.countAbove('a')).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    await expect(db.promises.defrag()).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    expect(calls).toEqual([]);
    // What every engine has still works.
    expect(db.countAll()).toBe(1);
    expect(db.getAll(() => {})).toBe(false);
  });

  test('unsorted engines iterate (with limit) but refuse ranges and reverse', () => {
    const { calls } = recordingPlugin('hashy', { iterators: true });
    const db = open('hashy');
    db.put('a', '1');
    db.put('b', '2');
    expect([...db.entries()].sort()).toEqual([['a', '1'], ['b', '2']]);
    expect([...db.keys({ limit: 1 })]).toHaveLength(1);
    calls.length = 0;
    expect(thrown(() => [...db.entries({ gt: 'a' })]).code).toBe('NOT_SUPPORTED');
    expect(thrown(() => [...db.entries({ reverse: true })]).code).toBe('NOT_SUPPORTED');
    expect(calls).toEqual([]);
  });

  test('defrag arguments follow pmemkv rules before reaching the engine', () => {
    const { calls } = recordingPlugin('defragger', { defrag: true });
    const db = open('defragger');
    for (const [s, a] of [[50, 100], [0, 101], [101, 0], [-1, 10], [Number.NaN, 1]]) {
      expect(thrown(() => db.defrag(s, a)).code).toBe('INVALID_ARGUMENT');
    }
    expect(calls).toEqual([]);
    db.defrag(0, 100);
    db.defrag(50, 50);
    expect(calls).toEqual(['defrag', 'defrag']);
  });

  test('fixed-size engines refuse other key and value sizes', () => {
    recordingPlugin('eight', { fixedSize: 8 });
    const db = open('eight', null, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    db.put(Buffer.alloc(8, 1), Buffer.alloc(8, 2));
    expect(thrown(() => db.put(Buffer.alloc(7), Buffer.alloc(8))).message).toContain('exactly 8 bytes');
    expect(thrown(() => db.put(Buffer.alloc(8), 'short')).message).toContain('exactly 8 bytes');
    expect(thrown(() => db.get('toolongkey')).code).toBe('INVALID_ARGUMENT');
  });
});

describe('arguments, encodings and lifecycle', () => {
  test('bad argument types are INVALID_ARGUMENT, never a crash', async () => {
    recordingPlugin('args', { iterators: true, sorted: true });
    const db = open('args');
    for (const call of [
      () => db.put(1 as never, 'v'), () => db.put('k', undefined as never), () => db.get(null as never), () => db.remove({} as never),
      () => db.getAll(undefined as never), () => db.batch('x' as never), () => db.batch([{ type: 'nope', key: 'a' } as never]),
      () => [...db.entries({ gt: 'a', gte: 'b' })], () => [...db.entries({ limit: 1.5 })], () => [...db.entries({ bogus: 1 } as never)],
    ]) {
      expect(thrown(call).code).toBe('INVALID_ARGUMENT');
    }
    await expect(db.promises.get(5 as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(thrown(() => open('args', null, { keyEncoding: 'json' as never })).code).toBe('INVALID_ARGUMENT');
    expect(thrown(() => open('args', null, { valueEncoding: 'hex' as never })).code).toBe('INVALID_ARGUMENT');
  });

  test('a bad operation in a batch is named, and nothing of the batch reaches the engine', () => {
    const { calls } = recordingPlugin('batch-args', {});
    const db = open('batch-args');
    const good = { type: 'put', key: 'a', value: 'v' } as const;
    const cases: [unknown, string][] = [
      [[good, good, { type: 'put', key: 7, value: 'v' }], 'batch[2].key must be a string, Buffer or Uint8Array, got number'],
      [[good, { type: 'del', key: null }], 'batch[1].key must be a string, Buffer or Uint8Array, got null'],
      [[good, { type: 'put', key: 'b' }], 'value is missing'],
      [[good, { type: 'nope', key: 5 }], 'batch operation 1 has type "nope"'],
      [[good, 3], 'batch operation 1 must be an object'],
    ];
    for (const [ops, message] of cases) {
      const e = thrown(() => db.batch(ops as never));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain(message);
    }
    expect(calls).not.toContain('batch');
    db.batch([good, { type: 'del', key: Buffer.from('b') }]);
    expect(calls.filter((c) => c === 'batch')).toHaveLength(1);
  });

  test('a bad key in getMany is named by its position', () => {
    recordingPlugin('get-many-args', {});
    const db = open('get-many-args');
    const e = thrown(() => db.getMany(['a', 'b', 5 as never]));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('keys[2] must be a string, Buffer or Uint8Array, got number');
  });

  test('utf8, buffer and json encodings round-trip', () => {
    const { data } = recordingPlugin('codec', { iterators: true });
    const text = open('codec');
    text.put('ключ', 'значение ✓');
    expect(text.get('ключ')).toBe('значение ✓');
    expect(data.get(Buffer.from('ключ').toString('latin1'))).toEqual(Buffer.from('значение ✓'));
    const bin = open('codec', null, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const v = bin.get(new Uint8Array(Buffer.from('ключ')));
    expect(Buffer.isBuffer(v)).toBe(true);
    expect(v!.toString()).toBe('значение ✓');
    expect(bin.keys().next().value).toEqual(Buffer.from('ключ'));
    const json = open('codec', null, { valueEncoding: 'json' });
    json.put('obj', { a: [1, 'two', null], b: true });
    expect(json.get('obj')).toEqual({ a: [1, 'two', null], b: true });
    expect(thrown(() => json.get('ключ')).message).toContain('not JSON');
    expect(thrown(() => json.put('fn', () => 1)).code).toBe('INVALID_ARGUMENT');
  });

  test('large values come back whole (beyond the reused scratch buffer)', () => {
    const handle = { ...blackhole.open({ create_if_missing: false, create_or_error_if_exists: false }) };
    const big = Buffer.alloc(200_000, 7);
    let stored: Buffer | undefined;
    handle.put = (_k, v) => void (stored = Buffer.from(v as Buffer));
    handle.getInto = (_k, scratch) => (stored!.length <= scratch.length ? stored!.copy(scratch) : stored!.length);
    handle.get = () => Buffer.from(stored!);
    registerEngine({ ...blackhole, name: 'bigvalues', open: () => handle });
    const db = open('bigvalues', null, { valueEncoding: 'buffer' });
    db.put('k', big);
    expect(db.get('k')).toEqual(big);
    db.put('k', Buffer.from('small'));
    expect(db.get('k')).toEqual(Buffer.from('small'));
  });

  test('use after close is INVALID_ARGUMENT; close is idempotent; Symbol.dispose closes', async () => {
    const { calls } = recordingPlugin('closing', { iterators: true });
    const db = open('closing');
    db.close();
    db.close();
    expect(calls.filter((c) => c === 'close')).toHaveLength(1);
    expect(db.isOpen).toBe(false);
    const e = thrown(() => db.get('a'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('closed');
    await expect(db.promises.get('a')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    {
      using scoped = open('closing');
      scoped.put('a', 'b');
    }
    expect(calls.filter((c) => c === 'close')).toHaveLength(2);
  });

  test('iteration stops with a closed-database error when the database closes mid-walk', () => {
    const { data } = recordingPlugin('midwalk', { iterators: true, sorted: true });
    for (let i = 0; i < 100; i++) data.set(`k${String(i).padStart(3, '0')}`, Buffer.from('v'));
    const db = open('midwalk');
    const it = db.keys();
    it.next();
    db.close();
    // The first chunk was already fetched; the next fetch sees the closed database.
    expect(() => {
      for (let r = it.next(); !r.done; r = it.next());
    }).toThrow(/closed/);
  });
});

describe('blackhole', () => {
  test('accepts everything, returns nothing', async () => {
    const db = open('blackhole');
    expect(db.capabilities.persistent).toBe(false);
    db.put('a', 'b');
    db.batch([{ type: 'put', key: 'x', value: 'y' }, { type: 'del', key: 'x' }]);
    expect(db.get('a')).toBeUndefined();
    expect(db.exists('a')).toBe(false);
    expect(db.remove('a')).toBe(true);
    expect(db.countAll()).toBe(0);
    expect([...db.entries()]).toEqual([]);
    expect(db.getAll(() => true)).toBe(false);
    expect(await db.promises.get('a')).toBeUndefined();
    expect(await db.promises.countAll()).toBe(0);
    db.close();
    expect(open('blackhole', '{}').engine).toBe('blackhole');
    expect(thrown(() => open('blackhole', { pth: 1 })).message).toContain("did you mean 'path'");
  });
});

describe('async twins on engines without native async work', () => {
  test('a call queued before close rejects instead of reaching the closed handle', async () => {
    const { calls } = recordingPlugin('queued', {});
    const db = open('queued');
    const pending = db.promises.put('a', 'b');
    db.close();
    await expect(pending).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(calls).toEqual(['close']);
  });

  test('errors from another realm keep their code', () => {
    const foreign = require('node:vm').runInNewContext("Object.assign(new Error('pool is full'), { code: 'OUT_OF_MEMORY' })");
    expect(foreign instanceof Error).toBe(false);
    expect(toPmemkvError(foreign)).toMatchObject({ code: 'OUT_OF_MEMORY', message: 'pool is full' });
  });
});

describe('capability messages read as English and name the engine, the method and what to do', () => {
  test('every message a capability check can produce', async () => {
    recordingPlugin('flat', { iterators: true });
    recordingPlugin('bare', {});
    recordingPlugin('forward', { iterators: true, sorted: true });
    const flat = open('flat');
    const bare = open('bare');
    const forward = open('forward');
    const cb = () => {};
    const cases: [() => unknown, string][] = [
      [() => flat.countAbove('a'), 'countAbove() is not available on the flat engine: it does not keep keys in order, so it cannot count or walk a key range; see db.capabilities'],
      [() => flat.getBetween('a', 'b', cb), 'getBetween() is not available on the flat engine: it does not keep keys in order, so it cannot count or walk a key range; see db.capabilities'],
      [() => [...flat.entries({ gt: 'a' })], 'entries() cannot take a key range (gt, gte, lt, lte) on the flat engine: it does not keep keys in order; iterate without bounds, or use a sorted engine; see db.capabilities'],
      [() => [...flat.entries({ reverse: true })], 'entries() cannot iterate in reverse on the flat engine: it does not keep keys in order; see db.capabilities'],
      [() => [...forward.keys({ reverse: true })], 'keys() cannot iterate in reverse on the forward engine: it iterates in ascending key order only; see db.capabilities'],
      [() => [...bare.values()], 'values() is not available on the bare engine: it has no iterators; visit every entry with getAll(callback) instead; see db.capabilities'],
      [() => bare.defrag(), 'defrag() is not available on the bare engine: it does not implement defragmentation; see db.capabilities'],
    ];
    for (const [run, message] of cases) {
      const e = thrown(run);
      expect(e.code).toBe('NOT_SUPPORTED');
      expect(e.message).toBe(message);
      expect(e.message).not.toMatch(/\(\)\s*\w*\(\)|in reverse\(\)|with a range\(\)/);
    }
    await expect(flat.promises.countEqualBelow('a')).rejects.toMatchObject({ message: cases[0]![1].replace('countAbove', 'countEqualBelow') });
    await expect(bare.promises.defrag()).rejects.toMatchObject({ message: cases[6]![1] });
  });
});

describe('POOL_LOCKED', () => {
  test('status 13, and an engine error with that code keeps it', () => {
    expect(Status.POOL_LOCKED).toBe(13);
    const locked = Object.assign(new Error('the pool /dev/shm/x.kv is open in another process'), { code: 'POOL_LOCKED' });
    expect(toPmemkvError(locked)).toMatchObject({ code: 'POOL_LOCKED', status: 13, message: 'the pool /dev/shm/x.kv is open in another process' });
    const foreign = require('node:vm').runInNewContext("Object.assign(new Error('locked'), { code: 'POOL_LOCKED' })");
    expect(toPmemkvError(foreign)).toMatchObject({ code: 'POOL_LOCKED', status: 13 });
  });
});
