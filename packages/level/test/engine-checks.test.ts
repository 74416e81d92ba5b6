// What the adapter checks of an engine, on small JS engines that declare what no installed
// engine does: the key order is pinned to bytewise, keys beyond the engine's maxKeySize are
// LEVEL_INVALID_KEY before the engine is reached, and engines abstract-level cannot run on are
// refused at construction.
import { afterAll, describe, expect, test } from '@jest/globals';
import { registerEngine, unregisterEngine } from '@pmemkv/core';
import { PmemkvLevel } from '../src';
import { sortedJsEngine } from './fixtures/sorted-js-engine';
import { rejection } from './helpers';

const ordered = sortedJsEngine('level-test-ordered', {}, true);
const small = sortedJsEngine('level-test-small', { maxKeySize: 8 });
const forwardOnly = sortedJsEngine('level-test-forward', { reverse: false });
for (const e of [ordered, small, forwardOnly]) registerEngine(e.plugin);
afterAll(() => {
  for (const e of [ordered, small, forwardOnly]) unregisterEngine(e.plugin.name);
});

describe('key order', () => {
  test('an engine with a comparator key is opened with comparator bytewise', async () => {
    const db = new PmemkvLevel({ engine: ordered.plugin.name });
    await db.open();
    expect(ordered.opened.at(-1)?.comparator).toBe('bytewise');
    await db.close();
  });

  test('comparator bytewise may be given; any other is refused, naming the key', () => {
    expect(() => new PmemkvLevel({ engine: ordered.plugin.name, comparator: 'bytewise' })).not.toThrow();
    expect(() => new PmemkvLevel({ engine: ordered.plugin.name, comparator: 'reverse-bytewise' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining("'comparator'") }),
    );
  });
});

describe('key size', () => {
  test.each([
    ['put', (db: PmemkvLevel) => db.put('123456789', 'v')],
    ['del', (db: PmemkvLevel) => db.del('123456789')],
    ['batch', (db: PmemkvLevel) => db.batch([{ type: 'put', key: 'ok', value: 'v' }, { type: 'put', key: '123456789', value: 'v' }])],
  ])('%s of a key longer than maxKeySize is LEVEL_INVALID_KEY and changes nothing', async (_name, call) => {
    const db = new PmemkvLevel({ engine: small.plugin.name });
    await db.put('12345678', 'fits');
    const err = await rejection(call(db));
    expect(err.code).toBe('LEVEL_INVALID_KEY');
    expect(err.message).toMatch(/at most 8 bytes; this key has 9/);
    expect(await db.iterator().all()).toEqual([['12345678', 'fits']]);
    await db.close();
  });

  test('the limit counts bytes, not characters', async () => {
    const db = new PmemkvLevel({ engine: small.plugin.name });
    const err = await rejection(db.put('ééééé', 'v')); // 10 bytes in UTF-8
    expect(err.code).toBe('LEVEL_INVALID_KEY');
    await db.close();
  });
});

test('an engine that iterates one way only is NOT_SUPPORTED at construction', () => {
  expect(() => new PmemkvLevel({ engine: forwardOnly.plugin.name })).toThrow(
    expect.objectContaining({ code: 'NOT_SUPPORTED', message: expect.stringMatching(/both directions/) }),
  );
});
