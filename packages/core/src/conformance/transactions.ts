/**
 * Transactions, chained batches and group commit.
 *
 * Every engine: the chained batch (`db.batch()` and `db.promises.batch()`: put, del, clear,
 * write, close; refuses use after write/close). Engines with `transactions`: `db.transaction()`
 * buffers puts and removes invisibly until commit, commit applies them all, abort discards
 * them, an ended transaction refuses further use, closing the database aborts open ones; a
 * batch that fails anywhere (an invalid operation, a value too large for the pool) changes
 * nothing and names the operation; many concurrent `db.promises.put` calls (group commit) all
 * resolve and are all there, and one that cannot fit fails alone. Engines without
 * `transactions`: `db.transaction()` is NOT_SUPPORTED. (Atomicity across a crash is checked by
 * the crash test.)
 */
import { describe, expect } from '@jest/globals';
import { PmemkvError, type BatchOperation } from '../index';
import { expectCode } from './assert-error';
import type { Suite } from './suite';

export function transactions(s: Suite): void {
  const { shape } = s;

  describe('transactions and chained batches', () => {
    s.usePool();

    s.test('a chained batch applies its operations in order on write(), and refuses use after write or close', async () => {
      const db = s.pool.fresh();
      const [a, b, c] = ['a', 'b', 'c'].map((x) => shape.key(x)) as [string, string, string];
      db.put(c, shape.value('c0'));
      const batch = db.batch().put(a, shape.value('a1')).put(b, shape.value('b1')).del(c).put(a, shape.value('a2'));
      expect(batch.length).toBe(4);
      expect(db.get(a)).toBeUndefined();  // nothing before write()
      batch.write();
      expect([db.get(a), db.get(b), db.get(c)]).toEqual([shape.value('a2'), shape.value('b1'), undefined]);
      expectCode('an ended transaction or batch', () => batch.put(a, shape.value('x')), 'INVALID_ARGUMENT');
      expectCode('an ended transaction or batch', () => batch.write(), 'INVALID_ARGUMENT');
      const cleared = db.batch().put(c, shape.value('c1')).clear().put(b, shape.value('b2'));
      cleared.write();
      expect([db.get(b), db.get(c)]).toEqual([shape.value('b2'), undefined]);
      const closed = db.batch().put(c, shape.value('never'));
      closed.close();
      closed.close();
      expectCode('an ended transaction or batch', () => closed.write(), 'INVALID_ARGUMENT');
      expect(db.get(c)).toBeUndefined();
      await db.promises.batch().put(c, shape.value('c3')).del(a).write();
      expect([db.get(a), db.get(c)]).toEqual([undefined, shape.value('c3')]);
    });

    if (!s.caps.transactions) {
      s.test('db.transaction() is NOT_SUPPORTED (the engine has no atomic batches)', () => {
        expectCode('db.transaction()', () => s.pool.fresh().transaction(), 'NOT_SUPPORTED');
      });
      return;
    }

    s.test('a transaction is invisible until commit, then all there; abort discards it', async () => {
      const db = s.pool.fresh();
      const [a, b, c] = ['a', 'b', 'c'].map((x) => shape.key(x)) as [string, string, string];
      db.put(b, shape.value('b0'));
      const tx = db.transaction().put(a, shape.value('a1')).remove(b).remove(shape.key('missing'));
      tx.put(c, shape.value('c1'));
      expect([db.get(a), db.get(b), db.get(c)]).toEqual([undefined, shape.value('b0'), undefined]);
      tx.commit();
      expect([db.get(a), db.get(b), db.get(c)]).toEqual([shape.value('a1'), undefined, shape.value('c1')]);
      expectCode('an ended transaction or batch', () => tx.put(a, shape.value('again')), 'INVALID_ARGUMENT');
      expectCode('an ended transaction or batch', () => tx.commit(), 'INVALID_ARGUMENT');
      await expect(tx.promises.commit()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

      const aborted = db.transaction().put(a, shape.value('lost')).remove(c);
      aborted.abort();
      expectCode('an ended transaction or batch', () => aborted.commit(), 'INVALID_ARGUMENT');
      expect([db.get(a), db.get(c)]).toEqual([shape.value('a1'), shape.value('c1')]);

      await db.transaction().put(b, shape.value('b2')).promises.commit();
      expect(db.get(b)).toBe(shape.value('b2'));
      expect(db.countAll()).toBe(3);
    });

    s.test('closing the database aborts its open transactions and chained batches', () => {
      const db = s.pool.fresh();
      const a = shape.key('a');
      const tx = db.transaction().put(a, shape.value('pending'));
      const batch = db.batch().put(a, shape.value('pending'));
      db.close();
      expectCode('an ended transaction or batch', () => tx.commit(), 'INVALID_ARGUMENT');
      expectCode('an ended transaction or batch', () => batch.write(), 'INVALID_ARGUMENT');
      if (s.caps.persistent) expect(s.pool.reopen().get(a)).toBeUndefined();
    });

    s.test('a batch with an invalid operation anywhere changes nothing and names the operation', (rng) => {
      const db = s.pool.fresh();
      const keys = Array.from({ length: 30 }, (_, i) => shape.key(`k${i}`));
      keys.forEach((k) => db.put(k, shape.value('old')));
      const ops: { type: string; key: unknown; value?: unknown }[] = keys.map((k) => ({ type: 'put', key: k, value: shape.value('new') }));
      const bad = rng.int(ops.length);
      ops[bad] = { type: 'put', key: 42, value: shape.value('x') };
      let err: unknown;
      try {
        db.batch(ops as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(PmemkvError);
      expect((err as PmemkvError).code).toBe('INVALID_ARGUMENT');
      expect((err as PmemkvError).message).toContain(`[${bad}]`);
      expect(keys.map((k) => db.get(k))).toEqual(keys.map(() => shape.value('old')));
    });

    if (s.caps.persistent && shape.fixed === undefined) {
      s.test('a batch that does not fit in the pool changes nothing, splits and growth included, and names the operation', () => {
        const db = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
        const before = Array.from({ length: 200 }, (_, i) => Buffer.from(`keep-${i}`));
        before.forEach((k) => db.put(k, k));
        const ops: BatchOperation<Buffer>[] = [];
        for (let i = 0; i < 500; i++) ops.push({ type: 'put', key: Buffer.from(`new-${i}`), value: Buffer.alloc(64, i) });
        for (let i = 0; i < 200; i += 2) ops.push({ type: 'del', key: before[i]! });
        ops.push({ type: 'put', key: Buffer.from('too-large'), value: Buffer.alloc(512 * 1024 * 1024) });
        let err: unknown;
        try {
          db.batch(ops);
        } catch (e) {
          err = e;
        }
        expect((err as PmemkvError | undefined)?.code).toBe('OUT_OF_MEMORY');
        expect((err as PmemkvError).message).toContain(`batch operation ${ops.length - 1}`);
        expect(db.countAll()).toBe(200);
        expect(before.every((k) => db.get(k)?.equals(k))).toBe(true);
        expect(db.exists(Buffer.from('new-0'))).toBe(false);
        db.close();
        const again = s.pool.reopen({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
        expect(again.countAll()).toBe(200);
      });
    }

    s.test('concurrent async puts and batches (group commit) all resolve, all land, in call order per key', async () => {
      const db = s.pool.fresh();
      const n = s.n(300);
      const pending: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        pending.push(db.promises.put(shape.key(`g${i % 50}`), shape.value(`v${i}`)));
        if (i % 10 === 0) pending.push(db.promises.batch([{ type: 'put', key: shape.key(`b${i}`), value: shape.value(`w${i}`) }, { type: 'del', key: shape.key(`b${i - 10}`) }]));
      }
      await Promise.all(pending);
      for (let k = 0; k < 50; k++) {
        const last = n - 1 - ((n - 1 - k) % 50);
        expect(db.get(shape.key(`g${k}`))).toBe(shape.value(`v${last}`));
      }
      const lastBatch = Math.floor((n - 1) / 10) * 10;
      expect(db.get(shape.key(`b${lastBatch}`))).toBe(shape.value(`w${lastBatch}`));
      expect(db.get(shape.key(`b${lastBatch - 10}`))).toBeUndefined();
    });

    if (s.caps.persistent && shape.fixed === undefined) {
      s.test('a grouped async write that cannot fit fails alone; the others of its group land', async () => {
        const db = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
        const first = db.promises.put(Buffer.from('first'), Buffer.from('1'));
        const small = Array.from({ length: 20 }, (_, i) => db.promises.put(Buffer.from(`small-${i}`), Buffer.from(`${i}`)));
        const huge = db.promises.put(Buffer.from('huge'), Buffer.alloc(512 * 1024 * 1024));
        await first;
        await Promise.all(small);
        await expect(huge).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
        expect(db.countAll()).toBe(21);
      });
    }
  });
}
