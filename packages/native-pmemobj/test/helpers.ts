// Shared test helpers: temp dirs for pools under /dev/shm, the fixture engine addon, and the
// handle shape the SDK glue produces (@pmemkv/core's EngineHandle, restated here because this
// package does not depend on core).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type Bytes = ArrayBufferView | string;

export interface Range {
  lower?: Bytes;
  lowerInclusive?: boolean;
  upper?: Bytes;
  upperInclusive?: boolean;
}

export interface Op {
  type: 'put' | 'del';
  key: Bytes;
  value?: Bytes;
}

export interface Handle {
  put(key: Bytes, value: Bytes): void;
  get(key: Bytes): Buffer | undefined;
  getInto(key: Bytes, scratch: Buffer): number;
  getManyInto(keys: readonly Bytes[], scratch: Buffer, start: number): number;
  getPooled(key: Bytes, pool: ArrayBuffer, offset: number): number;
  exists(key: Bytes): boolean;
  remove(key: Bytes): boolean;
  count(range: Range | undefined): number;
  scan(range: Range | undefined, reverse: boolean, limit: number): Buffer[];
  batch(ops: Op[]): void;
  defrag(start: number, amount: number): void;
  close(): void;
  readonly async: {
    put(key: Bytes, value: Bytes): Promise<void>;
    get(key: Bytes): Promise<Buffer | undefined>;
    exists(key: Bytes): Promise<boolean>;
    remove(key: Bytes): Promise<boolean>;
    count(range: Range | undefined): Promise<number>;
    scan(range: Range | undefined, reverse: boolean, limit: number): Promise<Buffer[]>;
    batch(ops: Op[]): Promise<void>;
    defrag(start: number, amount: number): Promise<void>;
  };
}

export interface EngineAddon {
  readonly descriptor: { readonly name: string; readonly threadModel: 'thread-safe' | 'single-writer' | 'serialized' };
  open(config: Record<string, unknown>): Handle;
  livePaths(): string[];
}

export const FIXTURE_ADDON = path.join(__dirname, 'fixture-engine', 'build', 'Release', 'fixture.node');

export function loadFixture(): EngineAddon {
  return require(FIXTURE_ADDON) as EngineAddon;
}

export const MiB = 1024 * 1024;

/** A fresh directory for pools, on tmpfs when there is one. Remove it with `removeTempDir`. */
export function makeTempDir(): string {
  const base = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  return fs.mkdtempSync(path.join(base, 'pmemkv-native-'));
}

export function removeTempDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Creates an empty libpmemobj pool with the pmempool CLI (independent of the code under test). */
export function pmempoolCreate(file: string, layout: string, size = '8M'): void {
  execFileSync('pmempool', ['create', 'obj', '--layout', layout, '--size', size, file]);
}

/** Runs `fn` and returns what it threw (failing when it did not throw). */
export function thrown(fn: () => unknown): Error & { code?: string; status?: number } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string; status?: number };
  }
  throw new Error(`expected a throw from ${String(fn)}`);
}

export async function rejected(p: Promise<unknown>): Promise<Error & { code?: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: string; status?: number };
  }
  throw new Error('expected a rejection');
}

export function strings(buffers: Buffer[]): string[] {
  return buffers.map((b) => b.toString('utf8'));
}
