/**
 * Benchmark settings: defaults, command-line parsing and validation. Parsing never touches a
 * store; every mistake is reported as an OptionsError whose message names the option.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** The db_bench workloads, in the order they run. `scaling` is the thread-scaling run. */
export const WORKLOADS = [
  'fillseq',
  'fillrandom',
  'fillbatch',
  'fillasync',
  'overwrite',
  'readseq',
  'readrandom',
  'readmissing',
  'deleterandom',
  'readwhilewriting',
  'reopen',
  'scaling',
] as const;
export type Workload = (typeof WORKLOADS)[number];

export const DEFAULT_PEERS = ['lmdb', 'classic-level'] as const;

/** Entries per `fillbatch` batch (db_bench's `entries_per_batch` for fillbatch). */
export const BATCH_SIZE = 1000;
/** One operation in SAMPLE_EVERY is timed on its own for the latency percentiles. */
export const SAMPLE_EVERY = 16;

export interface Options {
  /** Engines to run; `undefined` means every installed engine except blackhole. */
  readonly engines: readonly string[] | undefined;
  readonly peers: readonly string[];
  readonly num: number;
  readonly valueSize: number;
  readonly keySize: number;
  /** Reader threads of readwhilewriting; the scaling run uses 1 and max(2, threads). */
  readonly threads: number;
  readonly workloads: readonly Workload[];
  /** The directory under which the run makes (and removes) its own temporary directory. */
  readonly dir: string;
  readonly json: string | undefined;
  readonly report: string | undefined;
  readonly quick: boolean;
  /** Runs of each read-only workload on the same data; the median run is reported. */
  readonly repeat: number;
  /** pmemkv pool size in bytes; 0 means max(64 MiB, 4 x data + 64 B per entry). */
  readonly poolSize: number;
  readonly seed: number;
  readonly progress: boolean;
  readonly help: boolean;
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

export const QUICK_NUM = 20_000;
const DEFAULT_NUM = 1_000_000;
const DEFAULT_REPEAT = 3;

export function defaultDir(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

export const HELP = `pmemkv-bench: db_bench workloads on every installed pmemkv engine and on lmdb and
classic-level, side by side in one run.

Usage: pmemkv-bench [options]

  --engines LIST      engines to run (comma list); default: every installed engine
                      except blackhole (name blackhole explicitly to include it)
  --peers LIST        peer stores (default lmdb,classic-level; "" for none)
  --num N             entries per workload (default ${DEFAULT_NUM}; ${QUICK_NUM} with --quick)
  --value-size N      value bytes (default 100)
  --key-size N        key bytes: zero-padded decimal of the index (default 16)
  --threads N         reader threads of readwhilewriting; the scaling run uses 1 and
                      max(2, N) worker threads (default 1)
  --workloads LIST    comma list of: ${WORKLOADS.join(', ')}
                      (default: all)
  --dir DIR           where pools and database files go (default /dev/shm if it exists,
                      else the OS temp dir); the run uses a fresh directory inside it
                      and removes it at the end
  --repeat N          runs of each read-only workload, median reported
                      (default ${DEFAULT_REPEAT}; 1 with --quick)
  --pool-size BYTES   pmemkv pool size (default max(64 MiB, 4 x data + 64 B per entry))
  --seed N            PRNG seed for key orders and values (default 301)
  --json FILE         write machine-readable results
  --report DIR        write a Markdown summary and one SVG chart per workload
  --quick             small run (--num ${QUICK_NUM}, --repeat 1), still every workload
  --progress          show progress on stderr even when it is not a terminal
  --help              this text
`;

function positiveInt(name: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim())) throw new OptionsError(`--${name} takes a whole number, not ${JSON.stringify(text)}`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new OptionsError(`--${name} must be at least ${min}, not ${text}`);
  return n;
}

function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function workloads(text: string | undefined): Workload[] {
  if (text === undefined) return [...WORKLOADS];
  const asked = list(text);
  for (const w of asked) {
    if (!(WORKLOADS as readonly string[]).includes(w)) {
      throw new OptionsError(`--workloads: unknown workload '${w}'; known: ${WORKLOADS.join(', ')}`);
    }
  }
  if (asked.length === 0) throw new OptionsError('--workloads needs at least one workload');
  return WORKLOADS.filter((w) => asked.includes(w));
}

/** Decimal digits needed to write `n`. */
export function digits(n: number): number {
  return Math.max(1, String(Math.max(0, Math.floor(n))).length);
}

/**
 * Parses `argv` (without `node` and the script).
 * @throws OptionsError on an unknown option or a bad value.
 */
export function parseOptions(argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        engines: { type: 'string' },
        peers: { type: 'string' },
        num: { type: 'string' },
        'value-size': { type: 'string' },
        'key-size': { type: 'string' },
        threads: { type: 'string' },
        workloads: { type: 'string' },
        dir: { type: 'string' },
        json: { type: 'string' },
        report: { type: 'string' },
        repeat: { type: 'string' },
        'pool-size': { type: 'string' },
        seed: { type: 'string' },
        quick: { type: 'boolean', default: false },
        progress: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new OptionsError(`${(err as Error).message}; see --help`);
  }
  const v = parsed.values;
  const quick = v.quick === true;
  const num = positiveInt('num', v.num, quick ? QUICK_NUM : DEFAULT_NUM);
  const keySize = positiveInt('key-size', v['key-size'], 16);
  if (keySize < digits(num - 1)) {
    throw new OptionsError(`--key-size ${keySize} cannot hold ${num} distinct decimal keys: use at least ${digits(num - 1)}`);
  }
  if (num > 0xffffffff) throw new OptionsError('--num must be below 2^32');
  const peers = v.peers === undefined ? [...DEFAULT_PEERS] : list(v.peers);
  for (const p of peers) {
    if (!(DEFAULT_PEERS as readonly string[]).includes(p)) {
      throw new OptionsError(`--peers: unknown peer '${p}'; known: ${DEFAULT_PEERS.join(', ')}`);
    }
  }
  const engines = v.engines === undefined ? undefined : list(v.engines);
  return {
    engines,
    peers,
    num,
    valueSize: positiveInt('value-size', v['value-size'], 100, 0),
    keySize,
    threads: positiveInt('threads', v.threads, 1),
    workloads: workloads(v.workloads),
    dir: resolve(v.dir ?? defaultDir()),
    json: v.json === undefined ? undefined : resolve(v.json),
    report: v.report === undefined ? undefined : resolve(v.report),
    quick,
    repeat: positiveInt('repeat', v.repeat, quick ? 1 : DEFAULT_REPEAT),
    poolSize: positiveInt('pool-size', v['pool-size'], 0, 0),
    seed: positiveInt('seed', v.seed, 301, 0),
    progress: v.progress === true,
    help: v.help === true,
  };
}

/** Worker-thread counts of the scaling run. */
export function scalingThreads(options: Pick<Options, 'threads'>): number[] {
  return [1, Math.max(2, options.threads)];
}

/** pmemkv pool size for `options`: the explicit --pool-size, else generous headroom over the data. */
export function poolSizeFor(options: Pick<Options, 'num' | 'keySize' | 'valueSize' | 'poolSize'>): number {
  if (options.poolSize > 0) return options.poolSize;
  const data = options.num * (options.keySize + options.valueSize);
  const wanted = 4 * data + 64 * options.num;
  const mib = 1024 * 1024;
  return Math.max(64 * mib, Math.ceil(wanted / mib) * mib);
}
