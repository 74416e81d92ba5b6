/**
 * `--report DIR`: README-ready Markdown (summary.md) and one SVG chart per workload
 * (<workload>.svg), all generated as text.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResult } from '../runner';
import { fmt, rows, workloadOrder, type Row } from './rows';
import { chart } from './svg';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function markdownTable(result: BenchResult): string {
  const lines = ['| workload | store | threads | ops/s | µs/op | vs lmdb | vs 1 thread | p50 µs | p99 µs | note |', '|---|---|--:|--:|--:|--:|--:|--:|--:|---|'];
  let last = '';
  for (const r of rows(result)) {
    lines.push(
      `| ${r.workload === last ? '' : r.workload} | ${cell(r.store)} | ${r.m.threads} | ${fmt.ops(r.m.opsPerSec)} | ${fmt.us(r.m.usPerOp)} | ${fmt.ratio(r.ratioToLmdb)} | ${fmt.ratio(r.ratioToOneThread)} | ${fmt.us(r.m.p50Us)} | ${fmt.us(r.m.p99Us)} | ${cell(r.note)} |`,
    );
    last = r.workload;
  }
  return lines.join('\n');
}

export function markdown(result: BenchResult, withCharts: boolean): string {
  const m = result.machine;
  const s = result.settings;
  const out = [
    '# pmemkv-bench results',
    '',
    `- date: ${result.date}`,
    ...(result.command ? [`- command: \`${result.command}\``] : []),
    `- machine: ${m.cpus} cores, ${m.cpuModel}, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os} ${m.arch}, Node ${m.node}; 1-minute load average ${m.loadAverage.start.toFixed(2)} at start, ${m.loadAverage.end.toFixed(2)} at end`,
    `- medium: ${result.medium.description} (PMEM_IS_PMEM_FORCE=${result.medium.pmemForce ?? 'unset'})`,
    `- dataset: ${Number(s.num).toLocaleString('en-US')} entries, ${s.keySize} B keys, ${s.valueSize} B values (${(Number(s.datasetBytes) / 1e6).toFixed(1)} MB)`,
    '',
    '## Stores',
    '',
    ...result.stores.map((st) => `- **${st.name}** (${st.version}): ${st.durability}. Calls: ${st.methods}.`),
    ...result.skipped.map((sk) => `- **${sk.name}**: not run: ${sk.reason}`),
    '',
    '## Results',
    '',
    markdownTable(result),
    '',
  ];
  if (result.errors.length > 0) {
    out.push('## Errors', '', ...result.errors.map((e) => `- ${e.store} ${e.workload}: ${e.message}`), '');
  }
  out.push('## Notes', '', ...result.notes.map((n) => `- ${n}`), '');
  if (withCharts) {
    out.push('## Charts', '');
    for (const w of workloadOrder(result)) out.push(`![${w}](${w}.svg)`, '');
  }
  return out.join('\n');
}

/** Writes DIR/summary.md and DIR/<workload>.svg. Returns the files written. */
export function writeReport(dir: string, result: BenchResult): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const all = rows(result);
  const kinds = new Map(result.stores.map((st) => [st.name, st.kind]));
  const subtitle = `${Number(result.settings.num).toLocaleString('en-US')} entries, ${result.settings.keySize} B keys, ${result.settings.valueSize} B values; ${result.medium.fsType ?? '?'} ${result.medium.dir}, PMEM_IS_PMEM_FORCE=${result.medium.pmemForce ?? 'unset'}`;
  for (const w of workloadOrder(result)) {
    const file = join(dir, `${w}.svg`);
    writeFileSync(file, chart(w, all.filter((r: Row) => r.workload === w), kinds, subtitle));
    written.push(file);
  }
  const summary = join(dir, 'summary.md');
  writeFileSync(summary, markdown(result, true));
  written.unshift(summary);
  return written;
}
