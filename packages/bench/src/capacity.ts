#!/usr/bin/env node
/**
 * pmemkv capacity report: for every installed persistent engine, how many bytes of key +
 * value a fresh pool holds when it first answers OUT_OF_MEMORY, for each value size, with
 * 16-byte keys. Prints a table (and JSON with --json).
 *
 *   pnpm --filter @pmemkv/bench capacity                      every engine, 64 MiB, 16 B / 1 KiB / 64 KiB
 *   node packages/bench/dist/capacity.js --engines cmap --pool-size 8388608 --values 100,102400
 *
 * Each (engine, value size) fills its own fresh pool under --dir (default /dev/shm, else the
 * OS temp dir) with puts of distinct keys until the first OUT_OF_MEMORY, checks that countAll
 * agrees, and removes the pool. PMEM_IS_PMEM_FORCE defaults to 1 (flushes are cache flushes).
 * Engines whose keys and values have one fixed size are filled at that size instead.
 *
 * Exit status: 0 when every fill ended in OUT_OF_MEMORY, 1 when one failed otherwise (another
 * error, or a pool that never filled), 2 on a bad command line.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.env.PMEM_IS_PMEM_FORCE === undefined) process.env.PMEM_IS_PMEM_FORCE = '1';

type Core = typeof import('@pmemkv/core');
const core = (): Core => require('@pmemkv/core') as Core;

const MiB = 1024 * 1024;
const KEY_BYTES = 16;

export interface CapacityOptions {
  /** Engine names; default every installed engine that is persistent. */
  engines?: readonly string[];
  /** Pool size in bytes (default 64 MiB). */
  poolSize?: number;
  /** Value sizes in bytes (default 16, 1024, 65536). */
  values?: readonly number[];
  /** Where pools are created (a fresh directory inside it, removed at the end). */
  dir?: string;
}

export interface CapacityCell {
  valueSize: number;
  keySize: number;
  /** Pairs the pool held when the next put answered OUT_OF_MEMORY. */
  pairs: number;
  /** pairs x (keySize + valueSize). */
  bytes: number;
  /** bytes / pool size, in percent. */
  percent: number;
  seconds: number;
  /** Set when the fill ended otherwise than with OUT_OF_MEMORY. */
  error?: string;
}

export interface CapacityRow {
  engine: string;
  cells: CapacityCell[];
  skipped?: string;
}

export interface CapacityReport {
  poolSize: number;
  dir: string;
  pmemForce: string | undefined;
  rows: CapacityRow[];
}

/** Fills one fresh pool at `path` with (keySize, valueSize) pairs until OUT_OF_MEMORY. */
function fill(engine: string, path: string, poolSize: number, keySize: number, valueSize: number): CapacityCell {
  const { open, PmemkvError } = core();
  const started = process.hrtime.bigint();
  const db = open(engine, { path, size: poolSize, create_or_error_if_exists: 1 }, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  const value = Buffer.alloc(valueSize, 0x5a);
  const key = Buffer.alloc(keySize, 0x30);
  // A pool never holds more than its size in payload: twice as many puts means it never fills.
  const maxPuts = Math.ceil((2 * poolSize) / (keySize + valueSize));
  let pairs = 0;
  let error: string | undefined = `the pool never answered OUT_OF_MEMORY within ${maxPuts} puts`;
  try {
    for (; pairs < maxPuts; pairs++) {
      // The decimal index, zero-padded to the key size (distinct for every put).
      key.write(String(pairs).padStart(keySize, '0').slice(-keySize), 'latin1');
      if (valueSize >= 8) value.writeDoubleLE(pairs, 0);
      try {
        db.put(key, value);
      } catch (err) {
        error = err instanceof PmemkvError && err.code === 'OUT_OF_MEMORY' ? undefined : `put ${pairs}: ${String(err)}`;
        break;
      }
    }
    const count = db.countAll();
    if (error === undefined && count !== pairs) error = `countAll is ${count} after ${pairs} puts`;
  } finally {
    db.close();
    rmSync(path, { force: true });
  }
  const bytes = pairs * (keySize + valueSize);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { valueSize, keySize, pairs, bytes, percent: (100 * bytes) / poolSize, seconds, ...(error !== undefined ? { error } : {}) };
}

/** Runs the fills; calls `onCell` after each one (for progress). */
export function runCapacity(options: CapacityOptions = {}, onCell?: (engine: string, cell: CapacityCell) => void): CapacityReport {
  const c = core();
  const poolSize = options.poolSize ?? 64 * MiB;
  const values = options.values ?? [16, 1024, 64 * 1024];
  const base = options.dir ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
  const dir = mkdtempSync(join(base, 'pmemkv-capacity-'));
  const names = options.engines ?? c.listEngines().filter((n) => n !== 'blackhole');
  const rows: CapacityRow[] = [];
  try {
    for (const engine of names) {
      const caps = c.findEngine(engine).capabilities;
      if (!caps.persistent) {
        rows.push({ engine, cells: [], skipped: 'not persistent (no pool to fill)' });
        continue;
      }
      const cells: CapacityCell[] = [];
      const sizes = caps.fixedSize !== undefined ? [caps.fixedSize] : values;
      for (const valueSize of sizes) {
        const keySize = caps.fixedSize ?? Math.min(KEY_BYTES, caps.maxKeySize ?? KEY_BYTES);
        let cell: CapacityCell;
        try {
          cell = fill(engine, join(dir, `${engine}-${valueSize}.pool`), poolSize, keySize, valueSize);
        } catch (err) {
          cell = { valueSize, keySize, pairs: 0, bytes: 0, percent: 0, seconds: 0, error: String(err) };
        }
        cells.push(cell);
        onCell?.(engine, cell);
      }
      rows.push({ engine, cells, ...(caps.fixedSize !== undefined ? { skipped: `keys and values are exactly ${caps.fixedSize} B` } : {}) });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { poolSize, dir: base, pmemForce: process.env.PMEM_IS_PMEM_FORCE, rows };
}

function size(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} B`;
}

/** The report as a text table: one row per engine, one column per value size. */
export function formatCapacity(report: CapacityReport): string {
  const sizes = [...new Set(report.rows.flatMap((r) => r.cells.map((c) => c.valueSize)))].sort((a, b) => a - b);
  const header = ['engine', ...sizes.map((v) => `${size(v)} values`)];
  const lines = report.rows.map((r) => [
    r.engine,
    ...sizes.map((v) => {
      const cell = r.cells.find((c) => c.valueSize === v);
      if (cell === undefined) return r.skipped !== undefined && r.cells.length === 0 ? `- (${r.skipped})` : '-';
      if (cell.error !== undefined) return `error: ${cell.error}`;
      return `${(cell.bytes / MiB).toFixed(1)} MiB = ${cell.percent.toFixed(1)} % (${cell.pairs} pairs)`;
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cols: string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const notes = report.rows.filter((r) => r.skipped !== undefined && r.cells.length > 0).map((r) => `${r.engine}: ${r.skipped}`);
  return [
    `Key + value bytes a ${size(report.poolSize)} pool holds at OUT_OF_MEMORY (16-byte keys), ${report.dir}, PMEM_IS_PMEM_FORCE=${report.pmemForce ?? ''}`,
    '',
    row(header),
    row(widths.map((w) => '-'.repeat(w))),
    ...lines.map(row),
    ...(notes.length > 0 ? ['', ...notes] : []),
    '',
  ].join('\n');
}

const USAGE = `usage: capacity [--engines a,b] [--pool-size BYTES] [--values 16,1024,65536] [--dir DIR] [--json FILE]
`;

function parse(argv: readonly string[]): (CapacityOptions & { json?: string }) | string {
  const out: CapacityOptions & { json?: string } = {};
  const list = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const number = (flag: string, v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} takes a whole number of bytes, not '${v}'`);
    return n;
  };
  try {
    for (let i = 0; i < argv.length; i++) {
      const flag = argv[i]!;
      if (flag === '--help' || flag === '-h') return USAGE;
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      if (flag === '--engines') out.engines = list(v);
      else if (flag === '--pool-size') out.poolSize = number(flag, v);
      else if (flag === '--values') out.values = list(v).map((s) => number(flag, s));
      else if (flag === '--dir') out.dir = v;
      else if (flag === '--json') out.json = v;
      else throw new Error(`unknown option ${flag}`);
    }
  } catch (err) {
    return `capacity: ${(err as Error).message}\n${USAGE}`;
  }
  return out;
}

export function main(argv: readonly string[]): number {
  const options = parse(argv);
  if (typeof options === 'string') {
    const help = options === USAGE;
    (help ? process.stdout : process.stderr).write(options);
    return help ? 0 : 2;
  }
  const report = runCapacity(options, (engine, cell) =>
    process.stderr.write(`  ${engine} ${size(cell.valueSize)}: ${cell.error ?? `${cell.pairs} pairs, ${cell.percent.toFixed(1)} %`} (${cell.seconds.toFixed(1)} s)\n`),
  );
  process.stdout.write(formatCapacity(report));
  if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.rows.some((r) => r.cells.some((c) => c.error !== undefined)) ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
