/**
 * What every workload gets: the settings, the key and value generators, the shared random
 * orders (computed once per run, so every store replays the same sequence), progress, and the
 * Measurement type workloads return.
 */
import { BATCH_SIZE, type Options } from '../options';
import { KeyFormat, permutation, streamSeed, Streams, ValueSource } from '../keys';
import type { Progress } from '../progress';
import type { StoreRef } from '../stores';
import type { Store, StoreDriver } from '../stores/store';

export interface Measurement {
  /** Workload name; thread-scaling results are `<workload>-t<threads>`. */
  readonly workload: string;
  readonly threads: number;
  /** Timed operations (entries, for fillbatch). */
  readonly ops: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly usPerOp: number;
  readonly p50Us: number;
  readonly p99Us: number;
  /** What one latency sample covers: one operation, or one batch of BATCH_SIZE entries. */
  readonly latencyOf: 'op' | 'batch';
  readonly latencySamples: number;
  /** Reads that found their key (read workloads). */
  readonly found?: number;
  /** ops/s of every run of a repeated workload; the reported run is the median one. */
  readonly runs?: readonly number[];
  /** Extra figures, e.g. the writer's ops/s in readwhilewriting. */
  readonly extra?: Readonly<Record<string, number>>;
  /** Average cores other processes kept busy during this workload (see src/cpu.ts). */
  readonly otherCpuCores?: number;
}

export interface Context {
  readonly options: Options;
  readonly keys: KeyFormat;
  readonly values: ValueSource;
  readonly progress: Progress;
  /** The fill order: a seeded permutation of 0..num-1. */
  fillOrder(): Uint32Array;
  /** The deleterandom order: another seeded permutation. */
  deleteOrder(): Uint32Array;
}

export function createContext(options: Options, progress: Progress): Context {
  let fill: Uint32Array | undefined;
  let del: Uint32Array | undefined;
  return {
    options,
    keys: new KeyFormat(options.keySize),
    values: new ValueSource(options.valueSize, streamSeed(options.seed, Streams.values)),
    progress,
    fillOrder: () => (fill ??= permutation(options.num, streamSeed(options.seed, Streams.fillOrder))),
    deleteOrder: () => (del ??= permutation(options.num, streamSeed(options.seed, Streams.deleteOrder))),
  };
}

export { BATCH_SIZE };

/** One store opened for one workload group, as multi-threaded workloads need it. */
export interface GroupEnv {
  /** The group's store as it is now (`openStore` replaces it). */
  readonly store: Store;
  /** Closes the group's store (reopen: before timing `openStore`). */
  closeStore(): Promise<void>;
  /** Opens the group's existing store again; it becomes `store` (and is closed at the group's end). */
  openStore(): Promise<Store>;
  readonly driver: StoreDriver;
  /** How worker threads open the same store. */
  readonly ref: StoreRef;
  readonly path: string;
  readonly ctx: Context;
}
