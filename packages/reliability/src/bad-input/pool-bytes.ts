/**
 * Reading and patching a libpmemobj pool file directly (the pool closed), to make damaged
 * pools. Offsets inside a single-file pool are file offsets: a PMEMoid's `off` is the distance
 * from the pool's base, which maps file offset 0.
 *
 * libpmemobj 1.x file layout used here: the pool header (4 KiB, checksummed) at 0; the
 * pmemobj descriptor at 4096: layout name (1024 bytes), then lanes_offset, nlanes and
 * heap_offset (u64 each, at 5120, 5128, 5136), checksummed up to 6136; then, outside that
 * checksum, root_offset at 6144 and root_size at 6160. The lanes run from lanes_offset to
 * heap_offset, the heap from heap_offset to the end of the file.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';

export const POOL_HEADER_SIZE = 4096;
export const LANES_OFFSET_AT = 5120;
export const NLANES_AT = 5128;
export const HEAP_OFFSET_AT = 5136;
export const DESCRIPTOR_CHECKSUM_AT = 6136;
export const ROOT_OFFSET_AT = 6144;
export const ROOT_SIZE_AT = 6160;

export class PoolBytes {
  readonly #fd: number;
  #closed = false;
  readonly size: number;

  constructor(path: string, size: number) {
    this.#fd = openSync(path, 'r+');
    this.size = size;
  }

  read(offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    readSync(this.#fd, out, 0, length, offset);
    return out;
  }

  u64(offset: number): number {
    return Number(this.read(offset, 8).readBigUInt64LE(0));
  }

  u32(offset: number): number {
    return this.read(offset, 4).readUInt32LE(0);
  }

  u8(offset: number): number {
    return this.read(offset, 1)[0]!;
  }

  write(offset: number, bytes: Buffer): void {
    writeSync(this.#fd, bytes, 0, bytes.length, offset);
  }

  setU64(offset: number, value: number | bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(value));
    this.write(offset, b);
  }

  setU32(offset: number, value: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    this.write(offset, b);
  }

  setU8(offset: number, value: number): void {
    this.write(offset, Buffer.from([value & 0xff]));
  }

  /** Inverts every bit of the byte at `offset`. */
  flip(offset: number): void {
    this.setU8(offset, this.u8(offset) ^ 0xff);
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }
}
