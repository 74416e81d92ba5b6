/**
 * Encodings: `utf8` (the default, strings in and out, any Unicode), `buffer` (Buffers out), and
 * `json` values (any JSON value, stored as its JSON text). A string and its UTF-8 bytes are the
 * same key; sorted engines order UTF-8 keys by their bytes, not by JS string comparison.
 */
import { describe, expect } from '@jest/globals';
import { expectCode } from './assert-error';
import type { Suite } from './suite';

/** Non-ASCII strings whose UTF-8 forms are 1 to 4 bytes per character. */
const UNICODE = ['ключ', '键值存储', 'clé', 'naïve café', '🚀 rocket', 'e\u0301', '\u0000inside\u0000', 'z', '\uffff', '😀'];

export function encodings(s: Suite): void {
  const fixed = s.shape.fixed;

  describe('encodings', () => {
    s.usePool();

    if (fixed === undefined) {
      s.test('utf8 (the default) round-trips non-ASCII keys and values as strings', () => {
        const db = s.pool.fresh();
        UNICODE.forEach((text, i) => db.put(text, `${text} → value ${i}`));
        UNICODE.forEach((text, i) => {
          expect(db.get(text)).toBe(`${text} → value ${i}`);
          expect(db.exists(text)).toBe(true);
        });
        expect(db.countAll()).toBe(UNICODE.length);
        const seen: [string, string][] = [];
        db.getAll((k, v) => void seen.push([k, v]));
        for (const [k, v] of seen) {
          expect(typeof k).toBe('string');
          expect(v).toBe(`${k} → value ${UNICODE.indexOf(k)}`);
        }
        expect(seen.map(([k]) => k).sort()).toEqual([...UNICODE].sort());
        if (s.caps.iterators) {
          const keys = [...db.keys()];
          expect(keys.every((k) => typeof k === 'string')).toBe(true);
          expect([...keys].sort()).toEqual([...UNICODE].sort());
        }
      });

      if (s.caps.sorted) {
        s.test('utf8 keys are ordered by their UTF-8 bytes', () => {
          const db = s.pool.fresh();
          for (const text of UNICODE) db.put(text, 'v');
          const byBytes = [...UNICODE].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
          const seen: string[] = [];
          db.getAll((k) => void seen.push(k));
          expect(seen).toEqual(byBytes);
          // '\uffff' is EF BF BF, '😀' is F0 9F 98 80: bytewise '\uffff' comes first, though JS compares them the other way.
          expect(db.countBelow('😀')).toBe(byBytes.indexOf('😀'));
          expect(db.countAbove('\uffff')).toBe(byBytes.length - 1 - byBytes.indexOf('\uffff'));
        });
      }

      s.test('a string and its UTF-8 bytes are the same key, in either encoding', () => {
        const db = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' });
        db.put('ключ', 'значение');
        expect(db.get(Buffer.from('ключ', 'utf8'))?.toString('utf8')).toBe('значение');
        db.put(Buffer.from('键', 'utf8'), Buffer.from('值', 'utf8'));
        expect(db.get('键')?.equals(Buffer.from('值'))).toBe(true);
        expect(db.countAll()).toBe(2);
        const keys: Buffer[] = [];
        db.getAll((k) => void keys.push(k));
        expect(keys.every((k) => Buffer.isBuffer(k))).toBe(true);
        expect(keys.map((k) => k.toString('utf8')).sort()).toEqual(['ключ', '键'].sort());
      });

      s.test('utf8 values given as Buffers come back as strings; buffer values given as strings come back as Buffers', () => {
        const utf8 = s.pool.fresh({}, 'utf8');
        utf8.put('k', Buffer.from('from bytes ✓'));
        expect(utf8.get('k')).toBe('from bytes ✓');
        const bytes = s.pool.fresh({ valueEncoding: 'buffer' }, 'bytes');
        bytes.put('k', 'from a string ✓');
        const got = bytes.get('k');
        expect(Buffer.isBuffer(got)).toBe(true);
        expect(got?.toString('utf8')).toBe('from a string ✓');
      });

      s.test('json values round-trip every JSON value; a missing key is undefined, a stored null is null', () => {
        const db = s.pool.fresh({ valueEncoding: 'json' });
        const values: Record<string, unknown> = {
          object: { a: 1, b: [1, 2, { c: 'три' }], d: { e: null, f: true } },
          array: [0, -1.5, 'two', false, null, [[]]],
          number: 12345.678,
          negative: -0.25,
          string: 'plain "quoted" \\ text ✓',
          empty: '',
          yes: true,
          no: false,
          nothing: null,
        };
        for (const [k, v] of Object.entries(values)) db.put(k, v);
        for (const [k, v] of Object.entries(values)) expect(db.get(k)).toEqual(v);
        expect(db.get('missing')).toBeUndefined();
        expect(db.get('nothing')).toBeNull();
        expect(db.exists('nothing')).toBe(true);
        const walked: Record<string, unknown> = {};
        db.getAll((k, v) => void (walked[k] = v));
        expect(walked).toEqual(values);
        if (s.caps.iterators) expect(Object.fromEntries(db.entries())).toEqual(values);
      });

      s.test('json values that have no JSON form are INVALID_ARGUMENT and store nothing', () => {
        const db = s.pool.fresh({ valueEncoding: 'json' });
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        expectCode('put(k, undefined)', () => db.put('k', undefined), 'INVALID_ARGUMENT');
        expectCode('put(k, circular)', () => db.put('k', circular), 'INVALID_ARGUMENT');
        expectCode('put(k, () => 1)', () => db.put('k', () => 1), 'INVALID_ARGUMENT');
        expectCode('put(k, 10n)', () => db.put('k', 10n), 'INVALID_ARGUMENT');
        expect(db.countAll()).toBe(0);
      });

      if (s.caps.persistent) {
        s.test('json values are stored as their JSON text (readable with the utf8 encoding)', () => {
          const value = { name: 'pmemkv', list: [1, 2, 3], nested: { ok: true } };
          const db = s.pool.fresh({ valueEncoding: 'json' });
          db.put('doc', value);
          db.close();
          const text = s.pool.reopen();
          expect(text.get('doc')).toBe(JSON.stringify(value));
          text.put('raw', '{"written":"as text"}');
          text.close();
          const again = s.pool.reopen({ valueEncoding: 'json' });
          expect(again.get('raw')).toEqual({ written: 'as text' });
          expect(again.get('doc')).toEqual(value);
        });
      }
    } else {
      s.test('utf8 and buffer encodings agree on fixed-size keys and values', () => {
        const db = s.pool.fresh();
        const k = s.shape.key('ключ'.slice(0, Math.floor(fixed / 2)));
        const key = Buffer.byteLength(k) === fixed ? k : s.shape.key('key');
        db.put(key, s.shape.value('value'));
        expect(db.get(key)).toBe(s.shape.value('value'));
        db.close();
        const bytes = s.pool.fresh({ keyEncoding: 'buffer', valueEncoding: 'buffer' }, 'bytes');
        bytes.put(Buffer.from(key), Buffer.from(s.shape.value('value')));
        const keys: Buffer[] = [];
        bytes.getAll((kk) => void keys.push(kk));
        expect(keys.map((kk) => kk.toString())).toEqual([key]);
      });
    }
  });
}
