// A full iteration of a large unsorted table reads it in bounded chunks: entries() over 1 M
// cmap entries asks the engine for at most ~1024 entries at a time (so core never holds more),
// holds no lock between chunks (puts and removes run between next() calls), and sees every
// entry that existed throughout exactly once.
import { expect, test } from '@jest/globals';
import { open, registerEngine, type EngineHandle, type EnginePlugin, type UnorderedChunk } from '@pmemkv/core';
import plugin from '../src/index';
import { MiB, buffers, key, usePoolDir } from './helpers';

const N = 1_000_000;
const pools = usePoolDir();

// cmap under another name, its handle counting what each chunk hands out.
const chunks: number[] = [];
const probe: EnginePlugin = {
  ...plugin,
  name: 'cmap-chunk-probe',
  open(config) {
    const h = plugin.open(config);
    const scanUnordered = h.scanUnordered!.bind(h);
    const counted: EngineHandle = Object.create(h) as EngineHandle;
    (counted as { scanUnordered: EngineHandle['scanUnordered'] }).scanUnordered = (token, limit): UnorderedChunk => {
      const chunk = scanUnordered(token, limit);
      chunks.push(chunk.entries.length / 2);
      return chunk;
    };
    return counted;
  },
};
registerEngine(probe);

test(`entries() over ${N} entries reads bounded chunks and sees each stable entry once while writers change the table`, () => {
  const db = open('cmap-chunk-probe', { path: pools.pool(), size: 384 * MiB, create_if_missing: 1 }, buffers);
  const value = Buffer.alloc(100, 'v');
  for (let i = 0; i < N; i++) db.put(key('s', i), value);
  const seen = new Uint8Array(N);
  let others = 0;
  let added = 0;
  let removed = 0;
  let iterated = 0;
  let heapPeak = 0;
  const heapBefore = process.memoryUsage().heapUsed;
  for (const [k] of db.entries()) {
    iterated++;
    const name = k.toString();
    if (name.startsWith('s')) {
      const i = Number(name.slice(1));
      seen[i]!++;
    } else {
      others++;
    }
    if (iterated % 1000 === 0) {
      // Between chunks and inside them: new keys (which make the table grow) and removes of
      // keys added earlier. None of them may disturb the stable keys.
      for (let j = 0; j < 20; j++) db.put(key('n', added++), value);
      for (let j = 0; j < 10 && removed < added - 100; j++) db.remove(key('n', removed++));
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heapBefore);
    }
  }
  let missing = 0;
  let twice = 0;
  for (let i = 0; i < N; i++) {
    if (seen[i] === 0) missing++;
    if (seen[i]! > 1) twice++;
  }
  expect({ missing, twice }).toEqual({ missing: 0, twice: 0 });
  expect(iterated).toBe(N + others);
  expect(added).toBeGreaterThan(15_000);
  // Chunks grow from 16 to 1024 entries; cmap ends a chunk at a bucket boundary, a few past.
  const largest = Math.max(...chunks);
  expect(largest).toBeLessThanOrEqual(1024 + 64);
  expect(chunks.length).toBeGreaterThan(N / 1100);
  console.log(`${chunks.length} chunks, largest ${largest} entries; JS heap grew at most ${(heapPeak / MiB).toFixed(1)} MiB during the walk (the table holds ${((N * 116) / MiB).toFixed(0)} MiB of keys and values)`);
  db.close();
}, 180_000);
