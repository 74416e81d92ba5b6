/**
 * The bad-input table: every input an application could hand pmemkv by mistake, with the
 * outcome the issue requires. Built per engine from its capabilities, so each engine gets the
 * inputs that apply to it (range calls on unsorted engines are NOT_SUPPORTED, fixed-size
 * engines get wrong-size keys, persistent engines get files and damaged pools).
 *
 * Expectations:
 *   error    the call throws a PmemkvError whose code is one of `codes` (one, unless the
 *            design leaves the choice open) and whose message contains every `contains`.
 *   damaged  the documented damaged-pool error (UNKNOWN_ERROR, message containing "damaged"
 *            and "pmempool check"), at open or at the first operation that meets the damage
 *            (an exercise of reads, a walk, a put, a remove, close and reopen).
 *   internal damage inside libpmemobj's own structures (lanes, heap): the damaged-pool error,
 *            or a pool that opens and survives the whole exercise with only PmemkvErrors;
 *            otherwise (a signal, a hang, another error) the same input opened with
 *            `check_on_open: 1` must give the damaged-pool error.
 * In every case a signal, an abort, a hang or a non-PmemkvError is a failure.
 */
import type { Capabilities, ErrorCode } from '@pmemkv/core';
import { arr, bytes, describe, j, obj, special, type V } from './values';

export type Expect =
  | { readonly kind: 'error'; readonly codes: readonly ErrorCode[]; readonly contains?: readonly string[] }
  | { readonly kind: 'damaged' }
  | { readonly kind: 'internal' };

/** Which database a call runs on: the child's open one, a closed one, or none (open itself). */
export type Action =
  | { readonly t: 'open'; readonly name: V; readonly config: V; readonly options?: V }
  | { readonly t: 'call'; readonly on: 'open' | 'closed'; readonly method: string; readonly args: readonly V[] }
  | { readonly t: 'iterate'; readonly on: 'open' | 'closed'; readonly method: 'entries' | 'keys' | 'values'; readonly options: V }
  | { readonly t: 'transaction'; readonly steps: readonly (readonly [string, readonly V[]])[] }
  /** Opens the prepared file `file` (files.ts) with the good config's other keys plus `flags`, then exercises it. */
  | { readonly t: 'pool'; readonly file: string; readonly flags: Record<string, unknown> };

export interface Case {
  readonly group: string;
  readonly name: string;
  readonly action: Action;
  readonly expect: Expect;
}

export interface EngineFacts {
  readonly name: string;
  readonly caps: Capabilities;
  /** The engine's own config keys (besides core's common ones). */
  readonly engineKeys: readonly string[];
}

const err = (...codes: ErrorCode[]): Expect => ({ kind: 'error', codes });
const errWith = (codes: ErrorCode[], ...contains: string[]): Expect => ({ kind: 'error', codes, contains });
const INVALID = err('INVALID_ARGUMENT');
const UNSUPPORTED = err('NOT_SUPPORTED');
const MiB = 1024 * 1024;

/** Keys of the wrong type: every JS value that is not a string, Buffer or Uint8Array. */
const BAD_KEYS: readonly V[] = [
  j(42), j(null), special('undefined'), j(true), j({ key: 'k' }), j(['k']), special('symbol'), special('bigint'),
  special('fn'), special('nan'), special('date'), special('map'), special('f64array'), special('dataview'), special('arraybuffer'), special('promise'),
];
const BAD_VALUES: readonly V[] = [special('undefined'), j(42), j(null), j({ v: 1 }), j([1]), j(true), special('symbol'), special('bigint'), special('fn'), special('f64array')];
const BAD_CALLBACKS: readonly V[] = [special('undefined'), j(null), j('cb'), j({}), j(42), special('symbol')];
const INHERITED = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__'];

/** A key and value the engine accepts. */
export function goodKey(caps: Capabilities): Buffer {
  return caps.fixedSize !== undefined ? Buffer.alloc(caps.fixedSize, 0x6b) : Buffer.from('key');
}
export function goodValue(caps: Capabilities): Buffer {
  return caps.fixedSize !== undefined ? Buffer.alloc(caps.fixedSize, 0x76) : Buffer.from('value');
}

function argumentCases(f: EngineFacts): Case[] {
  const c = f.caps;
  const k = bytes(goodKey(c));
  const v = bytes(goodValue(c));
  const cb = special('fn');
  const out: Case[] = [];
  const call = (group: string, name: string, method: string, args: V[], expect: Expect, on: 'open' | 'closed' = 'open') =>
    out.push({ group, name, action: { t: 'call', on, method, args }, expect });

  for (const bad of BAD_KEYS) {
    for (const method of ['put', 'get', 'exists', 'remove']) call('key type', method, method, method === 'put' ? [bad, v] : [bad], INVALID);
  }
  if (c.fixedSize !== undefined) {
    const n = c.fixedSize;
    for (const len of [0, 1, n - 1, n + 1, 64]) {
      call('key size', `put of a ${len}-byte key (fixed size ${n})`, 'put', [bytes(Buffer.alloc(len, 0x61)), v], INVALID);
      call('key size', `get of a ${len}-byte key (fixed size ${n})`, 'get', [bytes(Buffer.alloc(len, 0x61))], INVALID);
    }
    for (const len of [0, n - 1, n + 1]) call('value size', `put of a ${len}-byte value (fixed size ${n})`, 'put', [k, bytes(Buffer.alloc(len, 0x61))], INVALID);
  }
  if (c.maxKeySize !== undefined && Number.isFinite(c.maxKeySize) && c.maxKeySize < 1 << 20 && c.fixedSize === undefined) {
    call('key size', `put of a key of maxKeySize + 1 = ${c.maxKeySize + 1} bytes`, 'put', [bytes(Buffer.alloc(c.maxKeySize + 1, 0x61)), v], INVALID);
  }
  for (const bad of BAD_VALUES) call('value type', 'put', 'put', [k, bad], INVALID);
  for (const bad of BAD_CALLBACKS) call('callback', 'getAll', 'getAll', [bad], INVALID);

  const counts = ['countAbove', 'countEqualAbove', 'countBelow', 'countEqualBelow'];
  const walks = ['getAbove', 'getEqualAbove', 'getBelow', 'getEqualBelow'];
  if (c.sorted) {
    for (const bad of BAD_KEYS.slice(0, 8)) {
      for (const m of counts) call('range key type', m, m, [bad], INVALID);
      call('range key type', 'countBetween (second key)', 'countBetween', [k, bad], INVALID);
      call('range key type', 'getAbove', 'getAbove', [bad, cb], INVALID);
      call('range key type', 'getBetween (first key)', 'getBetween', [bad, k, cb], INVALID);
    }
    for (const bad of BAD_CALLBACKS.slice(0, 4)) call('callback', 'getBetween', 'getBetween', [k, k, bad], INVALID);
  } else {
    for (const m of counts) call('capability', `${m} on an unsorted engine`, m, [k], UNSUPPORTED);
    call('capability', 'countBetween on an unsorted engine', 'countBetween', [k, k], UNSUPPORTED);
    for (const m of walks) call('capability', `${m} on an unsorted engine`, m, [k, cb], UNSUPPORTED);
    call('capability', 'getBetween on an unsorted engine', 'getBetween', [k, k, cb], UNSUPPORTED);
  }

  const iterate = (group: string, name: string, method: 'entries' | 'keys' | 'values', options: V, expect: Expect, on: 'open' | 'closed' = 'open') =>
    out.push({ group, name, action: { t: 'iterate', on, method, options }, expect });
  if (c.iterators) {
    const badOptions: V[] = [j('all'), j(5), j(true), j([]), j({ limit: 1.5 }), j({ limit: '3' }), special('nan'), j({ reverse: 'yes' }), j({ start: 'k' }), j({ lmit: 3 })];
    for (const o of badOptions) for (const m of ['entries', 'keys', 'values'] as const) iterate('iteration options', m, m, o, INVALID);
    iterate('iteration options', 'entries with limit NaN', 'entries', obj({ limit: special('nan') }), INVALID);
    if (c.sorted) {
      for (const o of [j({ gt: 5 }), j({ lte: null }), obj({ gt: k, gte: k }), obj({ lt: k, lte: k }), obj({ gt: special('symbol') })]) iterate('iteration options', 'entries', 'entries', o, INVALID);
    } else {
      iterate('capability', 'entries with a key range on an unsorted engine', 'entries', obj({ gt: k }), UNSUPPORTED);
    }
    if (!c.reverse) iterate('capability', 'entries in reverse without the reverse capability', 'entries', j({ reverse: true }), UNSUPPORTED);
  } else {
    iterate('capability', 'entries without the iterators capability', 'entries', special('undefined'), UNSUPPORTED);
  }

  const badBatches: V[] = [
    j('not an array'), j(5), j(null), j({ type: 'put', key: 'k', value: 'v' }), arr(j(null)), arr(obj({ type: j('delete'), key: k })),
    arr(obj({ type: j('put'), key: k })), arr(obj({ type: j('put'), key: j(5), value: v })), arr(obj({ key: k, value: v })),
    arr(obj({ type: j('del') })), arr(obj({ type: j('put'), key: k, value: v }), obj({ type: j('put'), key: k, value: special('symbol') })),
  ];
  for (const b of badBatches) call('batch', 'batch', 'batch', [b], INVALID);

  if (c.transactions) {
    const steps = (name: string, s: (readonly [string, readonly V[]])[]) => out.push({ group: 'transaction', name, action: { t: 'transaction', steps: s }, expect: INVALID });
    steps('put of a number key', [['put', [j(42), v]]]);
    steps('put of an undefined value', [['put', [k, special('undefined')]]]);
    steps('remove of a null key', [['remove', [j(null)]]]);
    steps('commit twice', [['put', [k, v]], ['commit', []], ['commit', []]]);
    steps('put after abort', [['abort', []], ['put', [k, v]]]);
  } else {
    call('capability', 'transaction() on an engine without atomic batches', 'transaction', [], UNSUPPORTED);
  }
  if (c.defrag) {
    for (const args of [[j(50), j(100)], [j(0), j(101)], [j(101), j(0)], [j(-1), j(10)], [j('a'), j(1)], [special('nan'), j(1)]]) call('defrag', 'defrag', 'defrag', args, INVALID);
  } else {
    call('capability', 'defrag without the defrag capability', 'defrag', [], UNSUPPORTED);
  }
  for (const [m, args] of [['put', [k, v]], ['get', [k]], ['exists', [k]], ['remove', [k]], ['countAll', []], ['getAll', [cb]], ['batch', [arr()]]] as const) {
    call('closed database', m, m, [...args], INVALID, 'closed');
  }
  if (c.iterators) iterate('closed database', 'entries', 'entries', special('undefined'), INVALID, 'closed');
  return out;
}

/** `open(name, config, options)` inputs. `good` is a config that opens (as JSON-able data). */
function openCases(f: EngineFacts, good: Record<string, unknown>, goodCreate: Record<string, unknown>): Case[] {
  const out: Case[] = [];
  const persistent = f.caps.persistent;
  const name = j(f.name);
  const open = (group: string, label: string, config: V, expect: Expect, options?: V, engine: V = name) =>
    out.push({ group, name: label, action: { t: 'open', name: engine, config, ...(options ? { options } : {}) }, expect });
  const json = (text: string) => j(text);
  const withKey = (base: Record<string, unknown>, key: string, value: V): V => obj({ ...Object.fromEntries(Object.entries(base).map(([a, b]) => [a, j(b)])), [key]: value });
  const text = JSON.stringify(goodCreate);
  const jsonWith = (raw: string) => json(`{${raw}${text === '{}' ? '' : `,${text.slice(1, -1)}`}}`);

  for (const n of ['', ' ', 'no-such-engine', '../engine-cmap', '/tmp/engine', 'a\0b', 'toString', '__proto__', 'constructor', 'hasOwnProperty', `engine-${f.name}`, `@pmemkv/engine-${f.name}`, `${f.name} `, f.name.toUpperCase(), `${f.name}\n`]) {
    open('engine name', JSON.stringify(n), j(good), err('WRONG_ENGINE_NAME'), undefined, j(n));
  }
  for (const n of [j(42), j(null), special('undefined'), j({}), special('symbol')]) open('engine name', `a name that is not a string: ${describe(n)}`, j(good), err('WRONG_ENGINE_NAME', 'INVALID_ARGUMENT'), undefined, n);

  for (const o of [j(5), j({ keyEncoding: 'bogus' }), j({ valueEncoding: 42 }), j({ bogus: 1 })]) open('open options', `open options ${describe(o)}`, j(goodCreate), INVALID, o);
  for (const c of [j(42), j(true), j([]), special('fn'), special('symbol')]) open('config type', `a config that is not an object or JSON text: ${describe(c)}`, c, INVALID);
  if (persistent) for (const c of [j(null), special('undefined'), j({})]) open('config type', `no config (persistent engine): ${describe(c)}`, c, INVALID);

  for (const t of [text.slice(0, -1), `${text}}`, "{'path': 'x'}", '', '{"size": }', 'nul', '{"a":1,}']) open('JSON config', `JSON text ${JSON.stringify(t)}`, json(t), err('CONFIG_PARSING_ERROR'));
  for (const t of ['[]', '42', '"text"', 'null', 'true']) open('JSON config', `JSON text ${t} (not an object)`, json(t), err('CONFIG_PARSING_ERROR'));
  for (const [key, value] of [['path', null], ['size', [1]], ['create_if_missing', null]] as const) {
    open('JSON config', `JSON value ${key}: ${JSON.stringify(value)}`, json(JSON.stringify({ ...goodCreate, [key]: value })), err('CONFIG_PARSING_ERROR'));
  }
  open('JSON config', 'JSON value bogus_key: 1.5', jsonWith('"bogus_key":1.5'), err('CONFIG_PARSING_ERROR', 'INVALID_ARGUMENT'));

  for (const [typo, meant] of [['pth', 'path'], ['sise', 'size'], ['create_if_mising', 'create_if_missing'], ['PATH', 'path']] as const) {
    open('unknown key', typo, withKey(goodCreate, typo, j(1)), errWith(['INVALID_ARGUMENT'], typo, meant));
  }
  for (const k of ['bogus', '', 'path ']) open('unknown key', JSON.stringify(k), withKey(goodCreate, k, j(1)), INVALID);
  for (const k of ['bogus', 'sise']) open('unknown key', `JSON ${k}`, jsonWith(`"${k}":1`), errWith(['INVALID_ARGUMENT'], k));
  for (const k of INHERITED) {
    const entries = Object.fromEntries(Object.entries(goodCreate).map(([a, b]) => [a, j(b)]));
    open('inherited name', `own key ${k}`, k === '__proto__' ? obj(entries, j(1)) : obj({ ...entries, [k]: j(1) }), errWith(['INVALID_ARGUMENT'], k));
    open('inherited name', `JSON key ${k}`, jsonWith(`"${k}":1`), errWith(['INVALID_ARGUMENT'], k));
  }
  open('inherited name', 'own key __proto__ holding an object', obj(Object.fromEntries(Object.entries(goodCreate).map(([a, b]) => [a, j(b)])), j({ path: 'x' })), errWith(['INVALID_ARGUMENT'], '__proto__'));

  const { create_if_missing: _c, ...noFlags } = goodCreate;
  for (const bad of [j(2), j(-1), j(0.5), j('1'), j('true'), j('yes'), j(null), special('nan'), special('inf'), j([]), j({}), special('bigint')]) {
    open('flag', `create_if_missing: ${describe(bad)}`, withKey(noFlags, 'create_if_missing', bad), errWith(['CONFIG_TYPE_ERROR'], 'create_if_missing'));
  }
  for (const bad of [j(2), j('1'), j(null), j(0.5)]) open('flag', `create_or_error_if_exists: ${describe(bad)}`, withKey(noFlags, 'create_or_error_if_exists', bad), errWith(['CONFIG_TYPE_ERROR'], 'create_or_error_if_exists'));
  open('flag', 'force_create: 2', withKey(noFlags, 'force_create', j(2)), errWith(['CONFIG_TYPE_ERROR'], 'force_create'));
  for (const raw of ['"create_if_missing":2', '"create_if_missing":"1"', '"create_or_error_if_exists":-1']) open('flag', `JSON ${raw}`, json(`{${raw}${JSON.stringify(noFlags) === '{}' ? '' : `,${JSON.stringify(noFlags).slice(1, -1)}`}}`), err('CONFIG_TYPE_ERROR'));

  for (const bad of [j('big'), j(true), j([]), j({}), j(1.5), special('nan'), special('inf'), j(2 ** 53 + 2)]) open('size', `size ${describe(bad)}`, withKey(goodCreate, 'size', bad), errWith(['CONFIG_TYPE_ERROR'], 'size'));
  for (const bad of [j(5), j({}), j(true), j([])]) open('path', `path: ${describe(bad)}`, withKey(goodCreate, 'path', bad), errWith(['CONFIG_TYPE_ERROR'], 'path'));
  if (persistent) {
    for (const size of [0, 1, MiB, 8 * MiB - 1]) open('size', `create with size ${size}`, withKey(goodCreate, 'size', j(size)), errWith(['INVALID_ARGUMENT'], 'size'));
    open('size', 'create with size -1', withKey(goodCreate, 'size', j(-1)), err('INVALID_ARGUMENT', 'CONFIG_TYPE_ERROR'));
    const { size: _s, ...noSize } = goodCreate;
    open('size', 'create without size', j(noSize), errWith(['INVALID_ARGUMENT'], 'size'));
    open('flag', 'create_if_missing and create_or_error_if_exists together', withKey(goodCreate, 'create_or_error_if_exists', j(1)), errWith(['INVALID_ARGUMENT'], 'create_if_missing', 'create_or_error_if_exists'));
    open('flag', 'force_create and create_or_error_if_exists together', j({ ...noFlags, force_create: 1, create_or_error_if_exists: 1 }), INVALID);
    const { path: _p, ...noPath } = goodCreate;
    open('path', 'no path', j(noPath), errWith(['INVALID_ARGUMENT'], 'path'));
    open('path', 'empty path', withKey(goodCreate, 'path', j('')), errWith(['INVALID_ARGUMENT'], 'path'));
    open('path', 'path with a NUL byte', withKey(goodCreate, 'path', j(`${String(goodCreate.path)}\0x`)), INVALID);
    open('path', 'path of 5000 bytes', withKey(goodCreate, 'path', j(`/dev/shm/${'p'.repeat(5000)}`)), INVALID);
    open('path', 'path in a directory that does not exist', withKey(goodCreate, 'path', j('/dev/shm/pmemkv-no-such-dir/x/pool')), INVALID);
    open('path', 'path under /proc', withKey(goodCreate, 'path', j('/proc/pmemkv-pool')), INVALID);
    open('path', 'config keys only inherited from its prototype (own keys count)', { $: 'inherit', proto: j(goodCreate) }, errWith(['INVALID_ARGUMENT'], 'path'));
  }
  return out;
}

/** Files that are not pools, other engines' pools, damaged pools: the names files.ts prepares. */
export interface FileCase {
  readonly file: string;
  readonly label: string;
  readonly flags: readonly Record<string, unknown>[];
  readonly expect: Expect;
}

export function poolCases(files: readonly FileCase[]): Case[] {
  const out: Case[] = [];
  for (const fc of files) {
    for (const flags of fc.flags) {
      const which = Object.keys(flags).length === 0 ? 'no create flag' : Object.keys(flags).join('+');
      out.push({ group: 'file', name: `${fc.label} (${which})`, action: { t: 'pool', file: fc.file, flags }, expect: fc.expect });
    }
  }
  return out;
}

/** Every case for an engine but the file and pool ones (those need prepared files: files.ts). */
export function casesFor(f: EngineFacts, good: Record<string, unknown>, goodCreate: Record<string, unknown>): Case[] {
  return [...argumentCases(f), ...openCases(f, good, goodCreate)];
}
