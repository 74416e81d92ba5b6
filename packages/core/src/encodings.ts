/**
 * Key and value encodings. Engines store bytes; a database's encodings say how JS values map
 * to those bytes and back. `utf8` (the default) stores strings as UTF-8 and returns strings;
 * `buffer` returns Buffers; `json` (values only) stores JSON text.
 *
 * Inputs are accepted in every encoding as `string | Buffer | Uint8Array` (a string is its
 * UTF-8 bytes); `json` values are any JSON-serializable value.
 */
import type { Bytes } from './contract';
import { invalidArgument } from './errors';

export type KeyEncodingName = 'utf8' | 'buffer';
export type ValueEncodingName = 'utf8' | 'buffer' | 'json';

/** Bytes as the public API accepts them. */
export type BytesInput = string | Buffer | Uint8Array;

export type KeyOf<E extends KeyEncodingName> = E extends 'buffer' ? Buffer : string;
export type ValueOf<E extends ValueEncodingName> = E extends 'buffer' ? Buffer : E extends 'json' ? unknown : string;

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
  /** Decodes `length` bytes of `buf` (from 0); copies, so `buf` may be reused afterwards. */
  decode(buf: Buffer, length: number): T;
  /** Decodes a Buffer the caller owns and hands over (no copy where the encoding allows). */
  adopt(buf: Buffer): T;
}

const utf8: Codec<string> = {
  name: 'utf8',
  encode: toBytes,
  decode: (buf, length) => buf.toString('utf8', 0, length),
  adopt: (buf) => buf.toString('utf8'),
};

const buffer: Codec<Buffer> = {
  name: 'buffer',
  encode: toBytes,
  decode: (buf, length) => {
    const out = Buffer.allocUnsafe(length);
    buf.copy(out, 0, 0, length);
    return out;
  },
  adopt: (buf) => buf,
};

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
  decode: (buf, length) => parseStored(buf.toString('utf8', 0, length)),
  adopt: (buf) => parseStored(buf.toString('utf8')),
};

function parseStored(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalidArgument(`a stored value is not JSON (${JSON.stringify(text.slice(0, 40))}...): read it with valueEncoding 'utf8' or 'buffer'`);
  }
}

export function keyCodec(name: unknown): Codec<string> | Codec<Buffer> {
  if (name === undefined || name === 'utf8') return utf8;
  if (name === 'buffer') return buffer;
  throw invalidArgument(`keyEncoding must be 'utf8' or 'buffer', got ${JSON.stringify(name)}`);
}

export function valueCodec(name: unknown): Codec<unknown> {
  if (name === undefined || name === 'utf8') return utf8;
  if (name === 'buffer') return buffer;
  if (name === 'json') return json;
  throw invalidArgument(`valueEncoding must be 'utf8', 'buffer' or 'json', got ${JSON.stringify(name)}`);
}
