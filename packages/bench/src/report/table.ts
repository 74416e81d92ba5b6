/** The plain-text report printed to stdout: header (machine, medium, stores) and the table. */
import type { BenchResult } from '../runner';
import { fmt, rows, splitThreads } from './rows';

function pad(cells: string[], widths: number[], rightAlign: boolean[]): string {
  return cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
}

export function header(result: BenchResult): string {
  const m = result.machine;
  const s = result.settings;
  const lines = [
    `pmemkv-bench  ${result.date}`,
    `machine:  ${m.cpus} cores, ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os} ${m.arch}, Node ${m.node}`,
    `          load average (1 min) ${m.loadAverage.start.toFixed(2)} at start, ${m.loadAverage.end.toFixed(2)} at end`,
    `medium:   ${result.medium.description}`,
    `          PMEM_IS_PMEM_FORCE=${result.medium.pmemForce ?? '(unset)'}; isPmem=${result.medium.isPmem ?? 'unknown'}`,
    `dataset:  ${Number(s.num).toLocaleString('en-US')} entries x (${s.keySize} B key + ${s.valueSize} B value) = ${(Number(s.datasetBytes) / 1e6).toFixed(1)} MB; pmemkv pools ${(Number(s.poolSize) / 2 ** 20).toFixed(0)} MiB`,
    'stores:',
  ];
  for (const st of result.stores) {
    lines.push(`  ${st.name} (${st.version}): ${st.durability}`);
    lines.push(`    calls: ${st.methods}`);
  }
  for (const sk of result.skipped) lines.push(`  ${sk.name}: NOT RUN: ${sk.reason}`);
  return lines.join('\n');
}

export function table(result: BenchResult): string {
  const head = ['workload', 'store', 'threads', 'ops/s', 'us/op', 'vs lmdb', 'vs 1 thread', 'p50 us', 'p99 us', 'note'];
  const right = [false, false, true, true, true, true, true, true, true, false];
  const body: string[][] = [];
  let last = '';
  for (const r of rows(result)) {
    const [, threads] = splitThreads(r.workload);
    body.push([
      r.workload === last ? '' : r.workload,
      r.store,
      String(r.m.threads ?? threads),
      fmt.ops(r.m.opsPerSec),
      fmt.us(r.m.usPerOp),
      fmt.ratio(r.ratioToLmdb),
      fmt.ratio(r.ratioToOneThread),
      fmt.us(r.m.p50Us),
      fmt.us(r.m.p99Us),
      r.note,
    ]);
    last = r.workload;
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const lines = [pad(head, widths, right), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of body) lines.push(pad(row, widths, right));
  return lines.join('\n');
}

export function textReport(result: BenchResult): string {
  const parts = [header(result), '', table(result)];
  if (result.errors.length > 0) {
    parts.push('', 'errors:');
    for (const e of result.errors) parts.push(`  ${e.store} ${e.workload}: ${e.message}`);
  }
  parts.push('', 'notes:');
  for (const n of result.notes) parts.push(`  - ${n}`);
  return parts.join('\n') + '\n';
}
