// batchEncoded: the operations of a batch in one Buffer (core's fast path). A well-formed
// buffer applies like the same batch given as an array; a malformed one (lengths past its
// end, an unknown kind, trailing bytes, a count larger than the buffer) is INVALID_ARGUMENT and
// changes nothing.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import * as path from 'node:path';

import { EngineAddon, MiB, loadFixture, makeTempDir, removeTempDir, thrown } from './helpers';

let dir: string;
let fixture: EngineAddon;
beforeAll(() => {
  dir = makeTempDir();
  fixture = loadFixture();
});
afterAll(() => removeTempDir(dir));

type Encoded = { batchEncoded(b: Buffer): void; async: { batchEncoded(b: Buffer): Promise<void> } };

function encode(ops: ({ put: [string, string] } | { del: string })[]): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  parts.push(u32(ops.length));
  for (const op of ops) {
    if ('put' in op) parts.push(Buffer.from([1]), u32(Buffer.byteLength(op.put[0])), Buffer.from(op.put[0]), u32(Buffer.byteLength(op.put[1])), Buffer.from(op.put[1]));
    else parts.push(Buffer.from([2]), u32(Buffer.byteLength(op.del)), Buffer.from(op.del));
  }
  return Buffer.concat(parts);
}

test('a well-formed encoded batch applies in order, sync and async', async () => {
  const db = fixture.open({ path: path.join(dir, 'ok.pool'), size: 8 * MiB, create_if_missing: true });
  const h = db as unknown as Encoded;
  db.put('gone', 'x');
  h.batchEncoded(encode([{ put: ['a', '1'] }, { put: ['b', ''] }, { del: 'gone' }, { put: ['a', '2'] }, { del: 'never' }]));
  expect([db.get('a')?.toString(), db.get('b')?.toString(), db.get('gone')]).toEqual(['2', '', undefined]);
  await h.async.batchEncoded(encode([{ put: ['c', '3'] }]));
  expect(db.get('c')?.toString()).toBe('3');
  h.batchEncoded(encode([]));
  expect(db.count(undefined)).toBe(3);
  db.close();
});

test('malformed encoded batches are INVALID_ARGUMENT and change nothing', async () => {
  const db = fixture.open({ path: path.join(dir, 'bad.pool'), size: 8 * MiB, create_if_missing: true });
  const h = db as unknown as Encoded;
  const good = encode([{ put: ['k', 'v'] }, { del: 'x' }]);
  const cases: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([1, 0, 0]),
    good.subarray(0, good.length - 1),      // the last key cut short
    Buffer.concat([good, Buffer.from([0])]), // trailing byte
    (() => { const b = Buffer.from(good); b[4] = 9; return b; })(),           // unknown kind
    (() => { const b = Buffer.from(good); b.writeUInt32LE(0xffffffff, 5); return b; })(), // key length past the end
    (() => { const b = Buffer.from(good); b.writeUInt32LE(0xfffffff, 0); return b; })(),  // count larger than the buffer
  ];
  for (const b of cases) {
    expect(thrown(() => h.batchEncoded(b)).code).toBe('INVALID_ARGUMENT');
    await expect(h.async.batchEncoded(b)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  }
  expect(thrown(() => h.batchEncoded('not a buffer' as unknown as Buffer)).code).toBe('INVALID_ARGUMENT');
  expect(db.count(undefined)).toBe(0);
  db.close();
});

// A thread's synchronous batches decode into storage kept from its earlier ones: a batch must
// see exactly its own keys and values whatever came before it (longer or shorter strings, a
// put where a delete was and the reverse, fewer or more operations, a malformed batch between).
test('consecutive batches of changing shapes each apply exactly their own operations', () => {
  const db = fixture.open({ path: path.join(dir, 'shapes.pool'), size: 8 * MiB, create_if_missing: true });
  const h = db as unknown as Encoded;
  const model = new Map<string, string>();
  const apply = (ops: ({ put: [string, string] } | { del: string })[]) => {
    h.batchEncoded(encode(ops));
    for (const op of ops) {
      if ('put' in op) model.set(op.put[0], op.put[1]);
      else model.delete(op.del);
    }
  };
  const long = (c: string, n: number) => c.repeat(n);
  apply(Array.from({ length: 300 }, (_, i) => ({ put: [`key-${i}-${long('k', i % 40)}`, long(String(i % 10), 200 + i)] as [string, string] })));
  apply(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? { del: `key-${i}-${long('k', i % 40)}` } : { put: [`s${i}`, `v${i}`] as [string, string] })));
  apply([{ put: ['a', ''] }, { put: ['', 'empty key'] }]);
  expect(thrown(() => h.batchEncoded(encode([{ put: ['half', 'x'] }]).subarray(0, 10))).code).toBe('INVALID_ARGUMENT');
  apply(Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? { put: [`key-${i}-${long('k', i % 40)}`, `${i}`] as [string, string] } : { del: `s${i}` })));
  apply([{ del: 'a' }]);
  expect(db.count(undefined)).toBe(model.size);
  for (const [k, v] of model) expect(db.get(k)?.toString()).toBe(v);
  expect(db.get('half')).toBeUndefined();
  db.close();
});
