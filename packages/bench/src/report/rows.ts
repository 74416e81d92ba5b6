/**
 * The rows every report shows: one per workload and store, in workload order, each with its
 * ratio to lmdb in the same run (and, for thread-scaling rows, to the same store's 1-thread row).
 */
import { WORKLOADS } from '../options';
import type { BenchResult } from '../runner';
import type { Measurement } from '../workloads/context';

export const BASELINE = 'lmdb';
/** Other processes' CPU use (cores) from which a row is flagged as measured on a busy machine. */
export const BUSY_CORES = 0.25;

export interface Row {
  readonly workload: string;
  readonly store: string;
  readonly m: Measurement;
  /** opsPerSec / lmdb's opsPerSec for the same workload; null when lmdb has no such result. */
  readonly ratioToLmdb: number | null;
  /** For `<w>-t<N>` rows: opsPerSec / the same store's `<w>-t1`. */
  readonly ratioToOneThread: number | null;
  /** A short remark: found counts that are not the expected ones, the writer rate, latency unit. */
  readonly note: string;
}

/** Workload names present in `result`, in run order (db_bench ones first, then -tN rows). */
export function workloadOrder(result: BenchResult): string[] {
  const present = new Set<string>();
  for (const perStore of Object.values(result.results)) for (const w of Object.keys(perStore)) present.add(w);
  const known = (WORKLOADS as readonly string[]).filter((w) => present.has(w));
  const scaled = [...present]
    .filter((w) => !known.includes(w))
    .sort((a, b) => {
      const [wa, ta] = splitThreads(a);
      const [wb, tb] = splitThreads(b);
      return wa === wb ? ta - tb : wa < wb ? -1 : 1;
    });
  return [...known, ...scaled];
}

export function splitThreads(workload: string): [string, number] {
  const m = /^(.*)-t(\d+)$/.exec(workload);
  return m ? [m[1]!, Number(m[2])] : [workload, 1];
}

function note(workload: string, m: Measurement): string {
  const parts: string[] = [];
  if (m.found !== undefined) {
    const expected = workload === 'readmissing' ? 0 : m.ops;
    if (m.found !== expected) parts.push(`found ${m.found} of ${m.ops}`);
  }
  if (m.extra?.writerOpsPerSec !== undefined) parts.push(`writer ${Math.round(m.extra.writerOpsPerSec).toLocaleString('en-US')} ops/s`);
  if (m.extra?.openMs !== undefined) parts.push(`open ${m.extra.openMs.toFixed(1)} ms`);
  if (m.extra?.anonBytesPerKey !== undefined) parts.push(`DRAM ${m.extra.anonBytesPerKey.toFixed(1)} B/key`);
  if (m.extra?.anonBytesPerStore !== undefined) parts.push(`+ ${(m.extra.anonBytesPerStore / 2 ** 20).toFixed(1)} MiB/store`);
  if (m.latencyOf === 'batch') parts.push('latency per batch');
  if (m.otherCpuCores !== undefined && m.otherCpuCores >= BUSY_CORES) parts.push(`others used ${m.otherCpuCores.toFixed(1)} cores`);
  return parts.join('; ');
}

export function rows(result: BenchResult): Row[] {
  const out: Row[] = [];
  const stores = result.stores.map((s) => s.name);
  for (const workload of workloadOrder(result)) {
    const base = result.results[BASELINE]?.[workload];
    const [plain, threads] = splitThreads(workload);
    for (const store of stores) {
      const m = result.results[store]?.[workload];
      if (m === undefined) continue;
      const one = threads > 1 ? result.results[store]?.[`${plain}-t1`] : undefined;
      out.push({
        workload,
        store,
        m,
        ratioToLmdb: base ? m.opsPerSec / base.opsPerSec : null,
        ratioToOneThread: one ? m.opsPerSec / one.opsPerSec : null,
        note: note(workload, m),
      });
    }
  }
  return out;
}

/** Number formatting shared by the text and Markdown tables. */
export const fmt = {
  ops(n: number): string {
    return Math.round(n).toLocaleString('en-US');
  },
  us(n: number): string {
    if (!Number.isFinite(n)) return '-';
    if (n < 10) return n.toFixed(2);
    if (n < 100) return n.toFixed(1);
    return Math.round(n).toLocaleString('en-US');
  },
  ratio(r: number | null): string {
    if (r === null) return '-';
    return r < 10 ? `${r.toFixed(2)}x` : `${r.toFixed(1)}x`;
  },
};
