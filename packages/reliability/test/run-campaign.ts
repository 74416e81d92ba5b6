/**
 * Runs one campaign script in CI mode over every engine package, as a child process, and
 * returns its summary and failure lines. Set PMEMKV_RELIABILITY_SEED to replay a run, and
 * PMEMKV_RELIABILITY_ENGINES (comma-separated) to restrict the engines.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface CampaignRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly summary: string;
  readonly failures: string[];
  readonly output: string;
}

export function campaignSeed(): number {
  const fromEnv = process.env.PMEMKV_RELIABILITY_SEED;
  return fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 0x100000000) >>> 0;
}

export function runCampaign(campaign: 'crash' | 'fuzz' | 'bad-input', seed: number): Promise<CampaignRun> {
  const script = join(__dirname, '..', 'dist', campaign, 'campaign.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: build the package first (npx tsc -b)`);
  const engines = process.env.PMEMKV_RELIABILITY_ENGINES;
  const args = [script, '--mode', 'ci', '--seed', String(seed), ...(engines ? ['--engines', engines] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PMEM_IS_PMEM_FORCE: process.env.PMEM_IS_PMEM_FORCE ?? '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => void (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = output.split('\n');
      const summary = [...lines].reverse().find((l) => /^\d+ passed, \d+ failed$/.test(l)) ?? '';
      resolve({ code, signal, summary, failures: lines.filter((l) => l.startsWith('FAIL ')), output });
    });
  });
}
