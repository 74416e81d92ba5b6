/**
 * Async-only engines (`capabilities.sync === false`): every sync data method is NOT_SUPPORTED
 * with a message naming its `db.promises` twin, before the handle is reached; the promises
 * twins and close() work; a handle without async methods is refused at open.
 */
import { describe, expect, test } from '@jest/globals';
import { CONTRACT_VERSION, open, PmemkvError, registerEngine } from '../src';
import { createHashPlugin, newScanStats } from './support/hash-engine';

function thrown(fn: () => unknown): PmemkvError {
  try {
    const r = fn();
    if (r !== null && typeof r === 'object' && Symbol.iterator in r) [...(r as Iterable<unknown>)];
  } catch (err) {
    expect(err).toBeInstanceOf(PmemkvError);
    return err as PmemkvError;
  }
  throw new Error('expected a PmemkvError');
}

describe('async-only engines', () => {
  const stats = newScanStats();
  registerEngine(createHashPlugin({ name: 'remote-test', asyncOnly: true, stats }));

  test('db.capabilities.sync is false there and true for every other engine', () => {
    const db = open('remote-test');
    expect(db.capabilities.sync).toBe(false);
    expect(Object.isFrozen(db.capabilities)).toBe(true);
    expect(open('blackhole').capabilities.sync).toBe(true);
  });

  test('every sync data method is NOT_SUPPORTED, naming db.promises.<method>()', () => {
    const db = open('remote-test');
    const cb = () => {};
    const calls: [string, () => unknown][] = [
      ['put', () => db.put('k', 'v')], ['get', () => db.get('k')], ['exists', () => db.exists('k')], ['remove', () => db.remove('k')],
      ['batch', () => db.batch([])], ['defrag', () => db.defrag()], ['countAll', () => db.countAll()],
      ['countAbove', () => db.countAbove('k')], ['countBetween', () => db.countBetween('a', 'b')],
      ['getAll', () => db.getAll(cb)], ['getBelow', () => db.getBelow('k', cb)],
      ['entries', () => db.entries()], ['keys', () => db.keys()], ['values', () => db.values()], ['entries', () => db[Symbol.iterator]()],
    ];
    for (const [method, run] of calls) {
      const e = thrown(run);
      expect(e.code).toBe('NOT_SUPPORTED');
      expect(e.message).toBe(`${method}() is not available on the remote-test engine, which is async-only: use db.promises.${method}() instead; see db.capabilities.sync`);
    }
    // Refused before anything else: bad arguments and a closed database get the same answer.
    expect(thrown(() => db.put(42 as never, 'v')).code).toBe('NOT_SUPPORTED');
    db.close();
    expect(thrown(() => db.get('k')).code).toBe('NOT_SUPPORTED');
  });

  test('the promises twins work, walks included, and close() works', async () => {
    const db = open('remote-test');
    for (let i = 0; i < 100; i++) await db.promises.put(`k${i}`, `v${i}`);
    expect(await db.promises.get('k7')).toBe('v7');
    expect(await db.promises.countAll()).toBe(100);
    let n = 0;
    expect(await db.promises.getAll(() => void n++)).toBe(false);
    expect(n).toBe(100);
    const keys: string[] = [];
    for await (const k of db.promises.keys()) keys.push(k);
    expect(keys.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `k${i}`).sort());
    expect(stats.maxLimit).toBeGreaterThan(16);
    await expect(db.promises.countAbove('k')).rejects.toMatchObject({ code: 'NOT_SUPPORTED' });
    db.close();
    expect(db.isOpen).toBe(false);
    await expect(db.promises.get('k7')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('an async-only plugin whose handle has no async methods is refused at open, and the handle closed', () => {
    let closed = 0;
    registerEngine({
      ...createHashPlugin({ name: 'remote-broken', asyncOnly: true }),
      open: () => ({ ...createHashPlugin().open({ create_if_missing: false, create_or_error_if_exists: false }), async: undefined, close: () => void closed++ }),
    });
    const e = thrown(() => open('remote-broken'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('async-only');
    expect(e.message).toContain('handle.async');
    expect(closed).toBe(1);
  });

  test('an unsorted engine with iterators whose handle lacks scanUnordered is refused at open', () => {
    registerEngine({
      name: 'contract-one',
      contractVersion: CONTRACT_VERSION,
      packageName: 'pmemkv-engine-contract-one',
      capabilities: { persistent: false, concurrent: false, sorted: false, iterators: true, reverse: false, transactions: false, defrag: false },
      configSchema: { type: 'object', properties: {} },
      open: () => {
        const { scanUnordered: _gone, ...old } = createHashPlugin().open({ create_if_missing: false, create_or_error_if_exists: false });
        return { ...old, async: undefined };
      },
    });
    const e = thrown(() => open('contract-one'));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('scanUnordered()');
    expect(e.message).toContain('pmemkv-engine-contract-one');
  });
});
