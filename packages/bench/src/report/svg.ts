/**
 * One horizontal bar chart per workload, as hand-written SVG text: a bar per store, its length
 * proportional to ops/s, labelled with ops/s and the ratio to lmdb.
 */
import type { Row } from './rows';
import { fmt } from './rows';

const WIDTH = 760;
const LABEL = 150;
const VALUE = 210;
const BAR_H = 22;
const GAP = 8;
const TOP = 40;

const COLORS = { engine: '#2b6cb0', peer: '#a0aec0', baseline: '#718096' } as const;

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/** @param kinds store name -> 'engine' | 'peer' */
export function chart(workload: string, workloadRows: readonly Row[], kinds: ReadonlyMap<string, string>, subtitle: string): string {
  const max = Math.max(1, ...workloadRows.map((r) => r.m.opsPerSec));
  const barMax = WIDTH - LABEL - VALUE - 20;
  const height = TOP + workloadRows.length * (BAR_H + GAP) + 20;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<title>${escapeXml(`${workload}: ops/s per store`)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(workload)} (ops/s, higher is better)</text>`,
    `<text x="10" y="34" font-size="11" fill="#4a5568">${escapeXml(subtitle)}</text>`,
  ];
  workloadRows.forEach((r, i) => {
    const y = TOP + i * (BAR_H + GAP);
    const w = Math.max(1, (r.m.opsPerSec / max) * barMax);
    const color = r.store === 'lmdb' ? COLORS.baseline : kinds.get(r.store) === 'engine' ? COLORS.engine : COLORS.peer;
    const ratio = r.ratioToLmdb === null ? '' : ` (${fmt.ratio(r.ratioToLmdb)} lmdb)`;
    out.push(
      `<text x="${LABEL - 8}" y="${y + BAR_H - 6}" text-anchor="end">${escapeXml(r.store)}</text>`,
      `<rect x="${LABEL}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" fill="${color}"/>`,
      `<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + BAR_H - 6}">${escapeXml(`${fmt.ops(r.m.opsPerSec)}${ratio}`)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
