/**
 * journal: a persistent sorted engine for core's own tests (not shipped). Data lives in an
 * append-only log file plus an in-memory SortedStore rebuilt from the log on open, which makes
 * the conformance suite's persistence, capacity and crash groups testable without native code.
 *
 * File layout:
 *   header (32 B): "PMKVJRN1" | u32 version (1) | u32 0 | f64 capacity (the `size` given at
 *                  creation) | 8 B zero
 *   records:       u32 body length | u32 checksum (first 4 bytes of SHA-256 of body) | body
 *   body:          u8 kind (1 put, 2 del, 3 batch), then
 *                  put: u32 key length, key, u32 value length, value;  del: u32 key length, key;
 *                  batch: u32 n, then n put/del bodies (each with its kind byte)
 *
 * Crash safety (process crash, not power loss: nothing is fsynced): each operation is one
 * record appended with one write() before the call returns, so an acknowledged operation is
 * in the page cache and survives the kill of the process. A record cut short by a kill fails
 * its length or checksum test; open stops replaying there and truncates the file to the last
 * whole record, so a torn record is never applied, a batch (one record) applies all or nothing,
 * and later appends never follow garbage. Defrag writes a compacted copy and renames it over the
 * log (rename is atomic: the old log or the new one); open does the same when the log holds
 * much more than the live entries.
 *
 * Capacity: live entries cost key + value + 32 bytes against the capacity; a put or batch that
 * would exceed it fails with OUT_OF_MEMORY and writes nothing.
 *
 * Several handles on the same path in one process share one store (refcounted); the file is
 * closed with the last handle. Another process's open of the same path is POOL_LOCKED while a
 * `<path>.lock` file names a live process; a path that is not a regular file is refused. `bufferRecords` > 1 makes a deliberately unsafe variant that
 * acknowledges operations before writing them (for the crash test's self-test).
 */
import { closeSync, existsSync, ftruncateSync, linkSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { CONTRACT_VERSION, type BatchOp, type Bytes, type Capabilities, type EngineConfig, type EngineHandle, type EnginePlugin } from '../../src/contract';
import { applyBatch, storeHandle } from './memory-engine';
import { SortedStore, toBuffer } from './sorted-store';

const MAGIC = 'PMKVJRN1';
const VERSION = 1;
const HEADER_BYTES = 32;
const ENTRY_OVERHEAD = 32;
/** Open compacts a log longer than twice its live entries plus this. */
const COMPACT_SLACK = 1024 * 1024;
const PUT = 1;
const DEL = 2;
const BATCH = 3;

export const JOURNAL_CAPABILITIES: Capabilities = {
  persistent: true,
  concurrent: false,
  sorted: true,
  iterators: true,
  reverse: true,
  transactions: true,
  defrag: true,
};

function engineError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function checksum(bytes: Buffer): number {
  return createHash('sha256').update(bytes).digest().readUInt32LE(0);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n);
  return b;
}

function opBody(op: BatchOp): Buffer[] {
  const k = toBuffer(op.key);
  if (op.type === 'del') return [Buffer.from([DEL]), u32(k.length), k];
  const v = toBuffer(op.value!);
  return [Buffer.from([PUT]), u32(k.length), k, u32(v.length), v];
}

function record(ops: readonly BatchOp[], asBatch: boolean): Buffer {
  const body = Buffer.concat(asBatch ? [Buffer.from([BATCH]), u32(ops.length), ...ops.flatMap(opBody)] : opBody(ops[0]!));
  return Buffer.concat([u32(body.length), u32(checksum(body)), body]);
}

/** Parses one op at `at` of `body`; returns it and the offset after it, or null when malformed. */
function parseOp(body: Buffer, at: number): [BatchOp, number] | null {
  const kind = body[at];
  if (at + 5 > body.length) return null;
  const klen = body.readUInt32LE(at + 1);
  const kEnd = at + 5 + klen;
  if (kEnd > body.length) return null;
  const key = Buffer.from(body.subarray(at + 5, kEnd));
  if (kind === DEL) return [{ type: 'del', key }, kEnd];
  if (kind !== PUT || kEnd + 4 > body.length) return null;
  const vEnd = kEnd + 4 + body.readUInt32LE(kEnd);
  if (vEnd > body.length) return null;
  return [{ type: 'put', key, value: Buffer.from(body.subarray(kEnd + 4, vEnd)) }, vEnd];
}

/** The ops of one record body, or null when it is malformed. */
function parseBody(body: Buffer): BatchOp[] | null {
  if (body[0] !== BATCH) {
    const one = parseOp(body, 0);
    return one && one[1] === body.length ? [one[0]] : null;
  }
  if (body.length < 5) return null;
  const n = body.readUInt32LE(1);
  const ops: BatchOp[] = [];
  let at = 5;
  for (let i = 0; i < n; i++) {
    const next = parseOp(body, at);
    if (next === null) return null;
    ops.push(next[0]);
    at = next[1];
  }
  return at === body.length ? ops : null;
}

interface Shared {
  readonly path: string;
  readonly store: SortedStore;
  readonly capacity: number;
  fd: number;
  used: number;
  refs: number;
  /** Records acknowledged but not yet written (only with bufferRecords > 1). */
  pending: Buffer[];
}

const openPools = new Map<string, Shared>();

function entryCost(key: Bytes, value: Bytes): number {
  return toBuffer(key).length + toBuffer(value).length + ENTRY_OVERHEAD;
}

function createFile(path: string, capacity: number): void {
  const header = Buffer.alloc(HEADER_BYTES);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(VERSION, 8);
  header.writeDoubleLE(capacity, 16);
  // Written under a temporary name and linked into place: the pool appears whole or not at
  // all, and link() fails if the path exists (create_or_error_if_exists).
  const tmp = `${path}.${process.pid}.new`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, header);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw engineError('INVALID_ARGUMENT', `the pool ${path} already exists (create_or_error_if_exists)`);
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** Reads the log into a store; truncates a torn tail. */
function load(path: string): Shared {
  const data = readFileSync(path);
  if (data.length < HEADER_BYTES || data.toString('latin1', 0, 8) !== MAGIC) {
    throw engineError('INVALID_ARGUMENT', `${path} is not a journal pool`);
  }
  if (data.readUInt32LE(8) !== VERSION) throw engineError('INVALID_ARGUMENT', `${path} has journal layout version ${data.readUInt32LE(8)}, expected ${VERSION}`);
  const capacity = data.readDoubleLE(16);
  const store = new SortedStore();
  let used = 0;
  let at = HEADER_BYTES;
  while (at + 8 <= data.length) {
    const length = data.readUInt32LE(at);
    const end = at + 8 + length;
    if (end > data.length) break;
    const body = data.subarray(at + 8, end);
    if (checksum(body) !== data.readUInt32LE(at + 4)) break;
    const ops = parseBody(body);
    if (ops === null) break;
    for (const op of ops) {
      const old = store.peek(op.key);
      if (old !== undefined) used -= entryCost(op.key, old);
      if (op.type === 'put') used += entryCost(op.key, op.value!);
    }
    applyBatch(store, ops);
    at = end;
  }
  const fd = openSync(path, 'r+');
  if (at < data.length) ftruncateSync(fd, at);
  closeSync(fd);
  const shared: Shared = { path, store, capacity, fd: openSync(path, 'a'), used, refs: 0, pending: [] };
  if (at > 2 * used + COMPACT_SLACK) compact(shared);
  return shared;
}

/** What is at `path` when it is not a regular file (the engine refuses it), else undefined. */
function notAFile(path: string): string | undefined {
  let st;
  try {
    st = statSync(path);
  } catch {
    return undefined;
  }
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Takes the lock file beside the journal (`<path>.lock`, holding the owner's pid) for this
 * process: POOL_LOCKED while a live process holds it; a lock left by a process that died is
 * taken over.
 */
function lock(path: string): void {
  const lockPath = `${path}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    const owner = Number(readFileSync(lockPath, 'utf8'));
    let alive = false;
    try {
      process.kill(owner, 0);
      alive = owner !== process.pid;
    } catch {
      alive = false;
    }
    if (alive) throw engineError('POOL_LOCKED', `the pool ${path} is in use by process ${owner}: close it there first`);
    rmSync(lockPath, { force: true });
  }
  throw engineError('POOL_LOCKED', `the pool ${path} is in use: its lock file could not be taken`);
}

function openShared(config: EngineConfig): Shared {
  const path = resolve(config.path!);
  const kind = notAFile(path);
  if (kind !== undefined) throw engineError('INVALID_ARGUMENT', `the pool ${path} is ${kind}, not a journal file: give the path of a file`);
  const exists = existsSync(path);
  if (config.create_or_error_if_exists && exists) throw engineError('INVALID_ARGUMENT', `the pool ${path} already exists (create_or_error_if_exists)`);
  const shared = openPools.get(path);
  if (shared) return shared;
  if (!exists) {
    if (!config.create_if_missing && !config.create_or_error_if_exists) {
      throw engineError('INVALID_ARGUMENT', `the pool ${path} does not exist: set create_if_missing to create it`);
    }
    createFile(path, config.size!);
  }
  lock(path);
  let loaded: Shared;
  try {
    loaded = load(path);
  } catch (err) {
    rmSync(`${path}.lock`, { force: true });
    throw err;
  }
  openPools.set(path, loaded);
  return loaded;
}

function flush(shared: Shared): void {
  if (shared.pending.length === 0) return;
  writeSync(shared.fd, Buffer.concat(shared.pending.splice(0)));
}

function append(shared: Shared, bytes: Buffer, bufferRecords: number): void {
  shared.pending.push(bytes);
  if (shared.pending.length >= bufferRecords) flush(shared);
}

/** Rewrites the log with only the live entries and renames it into place. */
function compact(shared: Shared): void {
  flush(shared);
  const tmp = `${shared.path}.${process.pid}.compact`;
  const header = readFileSync(shared.path).subarray(0, HEADER_BYTES);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, header);
    for (const [key, value] of shared.store.entries()) writeSync(fd, record([{ type: 'put', key, value }], false));
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, shared.path);
  closeSync(shared.fd);
  shared.fd = openSync(shared.path, 'a');
}

export interface JournalPluginOptions {
  readonly name?: string;
  /** Acknowledge this many records before writing them (1: write each before returning). */
  readonly bufferRecords?: number;
}

export function createJournalPlugin(options: JournalPluginOptions = {}): EnginePlugin {
  const bufferRecords = options.bufferRecords ?? 1;
  return {
    name: options.name ?? 'journal',
    contractVersion: CONTRACT_VERSION,
    packageName: '@pmemkv/core (test support)',
    threadModel: 'serialized',
    layout: { name: 'pmemkv_journal', version: VERSION },
    capabilities: JOURNAL_CAPABILITIES,
    configSchema: { type: 'object', properties: {} },
    open(config: EngineConfig): EngineHandle {
      const shared = openShared(config);
      shared.refs++;
      const base = storeHandle(shared.store, () => {
        if (--shared.refs > 0) return;
        flush(shared);
        closeSync(shared.fd);
        openPools.delete(shared.path);
        rmSync(`${shared.path}.lock`, { force: true });
      });
      const write = (ops: readonly BatchOp[], asBatch: boolean) => {
        let used = shared.used;
        let peak = used;
        let overflowAt = -1;  // the first operation after which the batch no longer fits
        const changed = new Map<string, Buffer | undefined>();
        for (const [i, op] of ops.entries()) {
          const id = toBuffer(op.key).toString('latin1');
          const old = changed.has(id) ? changed.get(id) : shared.store.peek(op.key);
          if (old !== undefined) used -= entryCost(op.key, old);
          const next = op.type === 'put' ? toBuffer(op.value!) : undefined;
          if (next !== undefined) used += entryCost(op.key, next);
          changed.set(id, next);
          peak = Math.max(peak, used);
          if (overflowAt < 0 && peak > shared.capacity - HEADER_BYTES) overflowAt = i;
        }
        if (overflowAt >= 0) {
          const where = asBatch ? `batch operation ${overflowAt}: ` : '';
          throw engineError('OUT_OF_MEMORY', `${where}the pool ${shared.path} is full (${shared.capacity} bytes)`);
        }
        append(shared, record(ops, asBatch), bufferRecords);
        applyBatch(shared.store, ops);
        shared.used = used;
      };
      let open = true;
      const ensureOpen = () => {
        if (!open) throw engineError('INVALID_ARGUMENT', 'the handle is closed');
      };
      // The store handle serves reads; writes go through the log first. Its async twins would
      // bypass the log, so this handle has none (core runs the sync methods in a later turn).
      const { async: _bypassesTheLog, ...reads } = base;
      const handle: EngineHandle = {
        ...reads,
        put: (key, value) => {
          ensureOpen();
          write([{ type: 'put', key, value }], false);
        },
        remove: (key) => {
          ensureOpen();
          if (shared.store.peek(key) === undefined) return false;
          write([{ type: 'del', key }], false);
          return true;
        },
        batch: (ops) => {
          ensureOpen();
          if (ops.length > 0) write(ops, true);
        },
        defrag: () => {
          ensureOpen();
          compact(shared);
        },
        close: () => {
          open = false;
          base.close();
        },
      };
      return handle;
    },
  };
}

export const journalPlugin = createJournalPlugin();
export default journalPlugin;
