/**
 * Key and value encodings. Engines store bytes; a database's encodings say how JS values map
 * to those bytes and back. `utf8` (the default) stores strings as UTF-8 and returns strings;
 * `buffer` returns Buffers; `json` (values only) stores JSON text.
 *
 * Inputs are accepted in every encoding as `string | Buffer | Uint8Array` (a string is its
 * UTF-8 bytes); `json` values are any JSON-serializable value.
 *
 * A custom encoding is an object `{ encode(value): string | Buffer | Uint8Array, decode(bytes) }`
 * for keys or values. Keys are ordered by their encoded bytes (bytewise), so a custom key
 * encoding decides the order sorted engines walk in; range bounds are encoded with it too.
 */
import type { Bytes } from './contract';
import { invalidArgument } from './errors';

export type KeyEncodingName = 'utf8' | 'buffer';
export type ValueEncodingName = 'utf8' | 'buffer' | 'json';

/** Bytes as the public API accepts them. */
export type BytesInput = string | Buffer | Uint8Array;

/**
 * A custom encoding of keys or values of type `T`.
 * `decode` receives a Buffer it owns (never reused by core); `encode`'s result is only read,
 * before the call that encoded it returns. Errors thrown by either become INVALID_ARGUMENT errors.
 */
export interface CustomEncoding<T> {
  /** Names the encoding in error messages (default `'custom'`). */
  readonly name?: string;
  encode(value: T): string | Buffer | Uint8Array;
  decode(bytes: Buffer): T;
}

/** A key encoding: a built-in name or a custom encoding. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KeyEncoding = KeyEncodingName | CustomEncoding<any>;
/** A value encoding: a built-in name or a custom encoding. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ValueEncoding = ValueEncodingName | CustomEncoding<any>;

export type KeyOf<E extends KeyEncoding> = E extends CustomEncoding<infer T> ? T : E extends 'buffer' ? Buffer : string;
/** The type values have under encoding `E`; `J` is what `'json'` values are (default `unknown`). */
export type ValueOf<E extends ValueEncoding, J = unknown> =
  E extends CustomEncoding<infer T> ? T : E extends 'buffer' ? Buffer : E extends 'json' ? J : string;

/** Turns a key or value input into engine bytes without copying (a string is passed as is). */
export function toBytes(input: unknown, what: string): Bytes {
  if (typeof input === 'string' || Buffer.isBuffer(input)) return input;
  if (input instanceof Uint8Array) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  throw invalidArgument(`${what} must be a string, Buffer or Uint8Array, got ${input === null ? 'null' : typeof input}`);
}

export function byteLength(bytes: Bytes): number {
  return typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.length;
}

export interface Codec<T> {
  readonly name: string;
  encode(value: unknown, what: string): Bytes;
  /** Decodes `length` bytes of `buf` from `offset` (0 when left out); copies, so `buf` may be reused afterwards. */
  decode(buf: Buffer, length: number, offset?: number): T;
  /** Decodes a Buffer the caller owns and hands over (no copy where the encoding allows). */
  adopt(buf: Buffer): T;
}

const utf8: Codec<string> = {
  name: 'utf8',
  encode: toBytes,
  decode: (buf, length, offset = 0) => buf.toString('utf8', offset, offset + length),
  adopt: (buf) => buf.toString('utf8'),
};

const buffer: Codec<Buffer> = {
  name: 'buffer',
  encode: toBytes,
  decode: (buf, length, offset = 0) => {
    const out = Buffer.allocUnsafe(length);
    buf.copy(out, 0, offset, offset + length);
    return out;
  },
  adopt: (buf) => buf,
};

/** Whether `codec` is the built-in `buffer` codec (a custom encoding may be named 'buffer' too). */
export function isBufferCodec(codec: Codec<unknown>): boolean {
  return codec === (buffer as Codec<unknown>);
}

const json: Codec<unknown> = {
  name: 'json',
  encode: (value, what) => {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (err) {
      throw invalidArgument(`${what} cannot be encoded as JSON: ${(err as Error).message}`);
    }
    if (text === undefined) throw invalidArgument(`${what} cannot be encoded as JSON (got ${typeof value})`);
    return text;
  },
  decode: (buf, length, offset = 0) => parseStored(buf.toString('utf8', offset, offset + length)),
  adopt: (buf) => parseStored(buf.toString('utf8')),
};

function parseStored(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidArgument(`a stored value is not JSON (${JSON.stringify(text.slice(0, 40))}...): read it with valueEncoding 'utf8' or 'buffer'`);
  }
}

function isCustom(e: unknown): e is CustomEncoding<unknown> {
  return e !== null && typeof e === 'object' && typeof (e as CustomEncoding<unknown>).encode === 'function'
    && typeof (e as CustomEncoding<unknown>).decode === 'function';
}

/** The codec of a custom encoding: its errors become INVALID_ARGUMENT, its bytes are checked. */
function customCodec(e: CustomEncoding<unknown>, option: string): Codec<unknown> {
  const name = typeof e.name === 'string' && e.name !== '' ? e.name : 'custom';
  const run = <R>(fn: () => R, what: string): R => {
    try {
      return fn();
    } catch (err) {
      throw invalidArgument(`the ${option} '${name}' failed to ${what}: ${(err as Error)?.message ?? String(err)}`);
    }
  };
  return {
    name,
    encode: (value, what) => toBytes(run(() => e.encode(value), `encode a ${what}`), `the ${option} '${name}' result for a ${what}`),
    decode: (buf, length, offset = 0) => {
      const owned = Buffer.allocUnsafe(length);
      buf.copy(owned, 0, offset, offset + length);
      return run(() => e.decode(owned), 'decode stored bytes');
    },
    adopt: (buf) => run(() => e.decode(buf), 'decode stored bytes'),
  };
}

export function keyCodec(name: unknown): Codec<unknown> {
  if (name === undefined || name === 'utf8') return utf8;
  if (name === 'buffer') return buffer;
  if (isCustom(name)) return customCodec(name, 'keyEncoding');
  throw invalidArgument(`keyEncoding must be 'utf8', 'buffer' or an object { encode, decode }, got ${JSON.stringify(name)}`);
}

export function valueCodec(name: unknown): Codec<unknown> {
  if (name === undefined || name === 'utf8') return utf8;
  if (name === 'buffer') return buffer;
  if (name === 'json') return json;
  if (isCustom(name)) return customCodec(name, 'valueEncoding');
  throw invalidArgument(`valueEncoding must be 'utf8', 'buffer', 'json' or an object { encode, decode }, got ${JSON.stringify(name)}`);
}
