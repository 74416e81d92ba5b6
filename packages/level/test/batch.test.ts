// Batches: atomic on tree3 (a batch that does not fit the pool leaves nothing of itself, and
// the error is LEVEL_IO_ERROR caused by OUT_OF_MEMORY), operation by operation on vmap; array
// and chained forms; clear() of large ranges in both directions with limits.
import { describe, expect, test } from '@jest/globals';
import { ENGINES, openLevel, rejection, tempDirs } from './helpers';

const dir = tempDirs();
const big = Buffer.alloc(256 * 1024, 7);

test('tree3: a batch larger than the pool fails whole, and the database keeps working', async () => {
  const db = openLevel<string, Buffer>('tree3', dir(), { valueEncoding: 'buffer' });
  await db.put('before', Buffer.from('kept'));
  const ops = Array.from({ length: 64 }, (_, i) => ({ type: 'put' as const, key: `big-${String(i).padStart(3, '0')}`, value: big }));
  const err = await rejection(db.batch(ops));
  expect(err.code).toBe('LEVEL_IO_ERROR');
  expect(err.cause.code).toBe('OUT_OF_MEMORY');
  expect(await db.keys().all()).toEqual(['before']);

  const chained = db.batch();
  for (const op of ops) chained.put(op.key, op.value);
  const err2 = await rejection(chained.write());
  expect(err2.cause.code).toBe('OUT_OF_MEMORY');
  expect(await db.keys().all()).toEqual(['before']);

  await db.batch(ops.slice(0, 4));
  expect(await db.keys({ gte: 'big' }).all()).toEqual(ops.slice(0, 4).map((op) => op.key));
  await db.close();
});

test('vmap: a batch is applied operation by operation (supports.atomicBatch is false)', async () => {
  const db = openLevel<string, Buffer>('vmap', dir(), { valueEncoding: 'buffer', size: 8 * 1024 * 1024 });
  expect(db.supports.atomicBatch).toBe(false);
  const ops = Array.from({ length: 64 }, (_, i) => ({ type: 'put' as const, key: `big-${String(i).padStart(3, '0')}`, value: big }));
  const err = await rejection(db.batch(ops));
  expect(err.code).toBe('LEVEL_IO_ERROR');
  expect(err.cause.code).toBe('OUT_OF_MEMORY');
  const applied = await db.keys().all();
  expect(applied.length).toBeGreaterThan(0);
  expect(applied).toEqual(ops.slice(0, applied.length).map((op) => op.key));
  await db.close();
});

describe.each(ENGINES)('%s', (engine) => {
  test('batch puts and dels in order, last one wins', async () => {
    const db = openLevel(engine, dir());
    await db.batch([
      { type: 'put', key: 'a', value: '1' },
      { type: 'put', key: 'b', value: '2' },
      { type: 'del', key: 'a' },
      { type: 'put', key: 'b', value: '3' },
    ]);
    expect(await db.iterator().all()).toEqual([['b', '3']]);
    await db.close();
  });

  const keys = Array.from({ length: 3000 }, (_, i) => `k${String(i).padStart(5, '0')}`);

  async function filled() {
    const db = openLevel(engine, dir());
    await db.batch(keys.map((key) => ({ type: 'put' as const, key, value: 'v' })));
    return db;
  }

  test('clear() of a range wider than one chunk', async () => {
    const db = await filled();
    await db.clear({ gte: keys[100], lt: keys[2900] });
    expect(await db.keys().all()).toEqual([...keys.slice(0, 100), ...keys.slice(2900)]);
    await db.close();
  });

  test('clear() with a limit, forward and reverse', async () => {
    const db = await filled();
    await db.clear({ limit: 1500 });
    await db.clear({ reverse: true, limit: 1100, gt: keys[0] });
    expect(await db.keys().all()).toEqual(keys.slice(1500, 1900));
    await db.clear();
    expect(await db.keys().all()).toEqual([]);
    await db.close();
  });

  test('clear() on a sublevel leaves the rest alone', async () => {
    const db = await filled();
    const sub = db.sublevel('s');
    await sub.batch(keys.slice(0, 1500).map((key) => ({ type: 'put' as const, key, value: 's' })));
    await sub.clear();
    expect(await sub.keys().all()).toEqual([]);
    expect((await db.keys().all()).length).toBe(keys.length);
    await db.close();
  });
});
