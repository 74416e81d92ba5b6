// SIGKILL through the adapter (tree3): a child writes rounds of batches (array and chained)
// and puts, reporting each round once its promises resolved; it is killed at a random moment.
// After reopening, every batch is wholly of one round (atomic), and no acknowledged round is lost.
import { expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PmemkvLevel } from '../src';
import { POOL_SIZE, tempDirs } from './helpers';

const dir = tempDirs();
const KEYS = 40;
const KILLS = 4;

const child = `
const { PmemkvLevel } = require('pmemkv-level');
const db = new PmemkvLevel(process.argv[2], { createIfMissing: false });
const key = (g, i) => g + String(i).padStart(2, '0');
(async () => {
  for (let round = Number(process.argv[3]); ; round++) {
    const value = String(round).padStart(8, '0') + 'x'.repeat(round % 300);
    await db.batch(Array.from({ length: ${KEYS} }, (_, i) => ({ type: 'put', key: key('a', i), value })));
    const chained = db.batch();
    for (let i = 0; i < ${KEYS}; i++) chained.put(key('b', i), value);
    chained.del('gone');
    await chained.write();
    await db.put('round', String(round));
    process.stdout.write(round + '\\n');
  }
})();
`;

/** Runs the child from `first` until it is killed; the last round it acknowledged. */
async function runAndKill(pool: string, first: number): Promise<number> {
  const proc = spawn(process.execPath, ['-', pool, String(first)], {
    cwd: join(__dirname, '..'),
    env: { ...process.env, PMEM_IS_PMEM_FORCE: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  proc.stdin.end(child);
  let acked = first - 1;
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    const lines = out.split('\n');
    out = lines.pop()!;
    for (const line of lines) acked = Number(line);
  });
  await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 200)));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
  return acked;
}

test('batches are whole and acknowledged writes survive SIGKILL', async () => {
  const pool = join(dir(), 'crash.pool');
  const setup = new PmemkvLevel(pool, { size: POOL_SIZE });
  await setup.put('gone', 'x');
  await setup.close();
  let next = 1;
  for (let kill = 0; kill < KILLS; kill++) {
    const acked = await runAndKill(pool, next);
    const db = new PmemkvLevel(pool, { createIfMissing: false });
    const round = Number(await db.get('round'));
    expect(round).toBeGreaterThanOrEqual(acked);
    for (const group of ['a', 'b']) {
      const values = await db.values({ gte: group, lt: group + '~' }).all();
      expect(values).toHaveLength(KEYS);
      expect(new Set(values).size).toBe(1);
      const batchRound = Number(values[0]!.slice(0, 8));
      expect(batchRound).toBeGreaterThanOrEqual(round);
      expect(batchRound).toBeLessThanOrEqual(round + 1);
    }
    expect(await db.has('gone')).toBe(false);
    await db.close();
    next = round + 2;
  }
});
