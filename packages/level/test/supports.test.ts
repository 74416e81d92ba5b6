// db.supports tells the truth about each engine: permanence and the create flags only where a
// pool persists, atomicBatch only where the engine has transactions, no snapshots anywhere.
import { describe, expect, test } from '@jest/globals';
import { ENGINES, openLevel, tempDirs } from './helpers';

const dir = tempDirs();

describe.each(ENGINES)('%s', (engine) => {
  const persistent = engine === 'tree3';

  test('manifest', async () => {
    const db = openLevel(engine, dir());
    expect(db.supports).toMatchObject({
      permanence: persistent,
      createIfMissing: persistent,
      errorIfExists: persistent,
      atomicBatch: persistent,
      implicitSnapshots: false,
      explicitSnapshots: false,
      snapshots: false,
      getSync: true,
      has: true,
      seek: true,
      deferredOpen: true,
      encodings: expect.objectContaining({ buffer: true, view: true, utf8: true, json: true }),
    });
    await db.close();
  });

  test('a sublevel reports the same', async () => {
    const db = openLevel(engine, dir());
    const sub = db.sublevel('s');
    await sub.open();
    expect(sub.supports).toMatchObject({ permanence: persistent, atomicBatch: persistent, getSync: true, implicitSnapshots: false });
    await db.close();
  });
});

test('vmap keeps its data across close() and open() of the same object, as memory-level, and a new object starts empty', async () => {
  const db = openLevel('vmap', dir());
  await db.put('k', 'v');
  await db.close();
  await db.open();
  expect(await db.get('k')).toBe('v');
  await db.close();
  const other = openLevel('vmap', dir());
  expect(await other.get('k')).toBeUndefined();
  await other.close();
});
