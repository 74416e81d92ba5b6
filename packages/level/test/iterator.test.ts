// Iterators read the engine in bounded chunks and hold nothing open between calls, so they
// survive async gaps and concurrent writes: a key present throughout is seen exactly once, in
// order; seek() narrows within the original range; limits hold across seeks.
import { describe, expect, test } from '@jest/globals';
import { ENGINES, openLevel, tempDirs } from './helpers';

const dir = tempDirs();
const key = (i: number) => `k${String(i).padStart(5, '0')}`;
const N = 5000;

describe.each(ENGINES)('%s', (engine) => {
  async function filled() {
    const db = openLevel(engine, dir());
    await db.batch(Array.from({ length: N }, (_, i) => ({ type: 'put' as const, key: key(2 * i), value: String(i) })));
    return db;
  }

  test.each([false, true])('writes between reads (reverse %s): keys present throughout are seen once, in order', async (reverse) => {
    const db = await filled();
    const it = db.keys({ reverse });
    const seen: string[] = [];
    const removed = new Set<string>();
    for (let round = 0; ; round++) {
      const chunk = await it.nextv(97);
      if (chunk.length === 0) break;
      seen.push(...chunk);
      await new Promise((resolve) => setImmediate(resolve));
      // Odd keys appear everywhere; every 7th even key ahead of and behind the position goes away.
      const at = reverse ? N - round * 97 : round * 97;
      for (let j = 0; j < 20; j++) await db.put(key(2 * ((at + j * 251) % N) + 1), 'new');
      for (let j = 0; j < 5; j++) {
        const victim = key(2 * ((at + j * 7 * 149) % N));
        removed.add(victim);
        await db.del(victim);
      }
    }
    await it.close();
    const order = [...seen].sort();
    if (reverse) order.reverse();
    expect(seen).toEqual(order);
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 0; i < N; i++) {
      if (!removed.has(key(2 * i))) expect(seen).toContain(key(2 * i));
    }
    await db.close();
  });

  test('seek() moves both ways within the range and keeps the limit', async () => {
    const db = await filled();
    const it = db.keys({ gte: key(100), lt: key(200), limit: 10 });
    it.seek(key(150));
    expect(await it.nextv(3)).toEqual([key(150), key(152), key(154)]);
    it.seek(key(0)); // before the range: back to its start
    expect(await it.nextv(3)).toEqual([key(100), key(102), key(104)]);
    it.seek(key(199)); // between keys: the next one
    expect(await it.all()).toEqual([]);
    await it.close();

    const rev = db.keys({ gt: key(100), lte: key(200), reverse: true, limit: 5 });
    rev.seek(key(151));
    expect(await rev.nextv(2)).toEqual([key(150), key(148)]);
    rev.seek(key(300)); // after the range: back to its end
    expect(await rev.all()).toEqual([key(200), key(198), key(196)]);
    await db.close();
  });

  test('entries, keys and values iterators agree, with keys/values options', async () => {
    const db = await filled();
    const range = { gt: key(10), lte: key(20) };
    const entries = await db.iterator(range).all();
    expect(entries).toEqual([[key(12), '6'], [key(14), '7'], [key(16), '8'], [key(18), '9'], [key(20), '10']]);
    expect(await db.keys(range).all()).toEqual(entries.map(([k]) => k));
    expect(await db.values(range).all()).toEqual(entries.map(([, v]) => v));
    expect(await db.iterator({ ...range, values: false }).all()).toEqual(entries.map(([k]) => [k, undefined]));
    expect(await db.iterator({ ...range, keys: false }).all()).toEqual(entries.map(([, v]) => [undefined, v]));
    await db.close();
  });

  test('binary keys and values (buffer and view encodings) round-trip, in bytewise order', async () => {
    const db = openLevel<Buffer, Buffer>(engine, dir(), { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    const keys = [Buffer.from([0]), Buffer.from([0, 0]), Buffer.from([1, 255]), Buffer.from([255]), Buffer.alloc(0)];
    await db.batch(keys.map((k, i) => ({ type: 'put' as const, key: k, value: Buffer.from([i, 0, i]) })));
    const all = await db.iterator().all();
    expect(all.map(([k]) => k)).toEqual([...keys].sort(Buffer.compare));
    expect(db.getSync(Buffer.from([1, 255]))).toEqual(Buffer.from([2, 0, 2]));
    const view = await db.get(new Uint8Array([255]), { valueEncoding: 'view' });
    expect(view).toBeInstanceOf(Uint8Array);
    expect([...view!]).toEqual([3, 0, 3]);
    await db.close();
  });
});
