/**
 * The format of a local copy: what the caching engine stores in its sub-engine under the
 * caller's key (persistent format when the sub-engine is persistent: never change the meaning of
 * a byte; a new format takes a new tag).
 *
 *   byte 0      tag 0xC1 (format 1)
 *   bytes 1..6  the time the copy was written or fetched, milliseconds since the Unix epoch,
 *               unsigned 48-bit little-endian (good until the year 10889)
 *   byte 7      0 (reserved)
 *   bytes 8..   the value, byte for byte
 *
 * Expiry is computed on read from the stored time and the `ttl` the database runs with now, so
 * it survives a restart and a changed `ttl` applies to copies already stored. A value that is
 * shorter than the header or carries another tag (a pool written by something else) reads as an
 * expired copy: it is refetched from the remote and overwritten, never returned.
 *
 * A local copy is written by one sub-engine `put`, so after a crash the sub-engine holds the
 * old copy or the new one whole (each persistent engine's own guarantee); either is a valid
 * copy of a value the remote held.
 */

export const HEADER_BYTES = 8;
const TAG = 0xc1;
/** A stored time more than this far in the future means the clock went back: treat the copy as expired. */
const CLOCK_SLACK_MS = 60_000;

/** The local copy of `value` written at `nowMs`. The result is a fresh Buffer. */
export function encodeEntry(value: Buffer | string, nowMs: number): Buffer {
  const length = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
  const out = Buffer.allocUnsafe(HEADER_BYTES + length);
  out[0] = TAG;
  out.writeUIntLE(nowMs, 1, 6);
  out[7] = 0;
  if (typeof value === 'string') out.write(value, HEADER_BYTES, 'utf8');
  else value.copy(out, HEADER_BYTES);
  return out;
}

/** Whether `stored` is a local copy in this format that is still valid at `nowMs` under `ttlMs` (0 = forever). */
export function isFresh(stored: Buffer, nowMs: number, ttlMs: number): boolean {
  if (stored.length < HEADER_BYTES || stored[0] !== TAG || stored[7] !== 0) return false;
  if (ttlMs === 0) return true;
  const written = stored.readUIntLE(1, 6);
  return nowMs < written + ttlMs && written <= nowMs + CLOCK_SLACK_MS;
}

/** The value bytes of a local copy (a view of `stored`, which the caller owns). REQUIRES: isFresh(stored, ...) held. */
export function entryValue(stored: Buffer): Buffer {
  return stored.subarray(HEADER_BYTES);
}
