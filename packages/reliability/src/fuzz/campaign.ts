/**
 * The differential fuzz campaign (`node dist/fuzz/campaign.js [--mode ci|long] [--seed N]
 * [--count N] [--engines a,b]`): for every engine, a child process (child.ts) runs seeded
 * random operations against the reference model. Each block of 1,000 operations that matches
 * the model is one passed check; a divergence is a failure line giving the seed, the operation
 * index and what differed; a child that dies (signal, hang, exit) is a failure too.
 *
 * Sizes: --count is operations per engine. CI: 50,000. Long: 1,000,000.
 */
import { join } from 'node:path';
import { parseArgs } from '../cli';
import { baseConfig, discoverEngines } from '../engines';
import { Report, runMain } from '../report';
import { deriveSeed } from '../seeds';
import { runChild, stderrHint } from '../spawn';
import { makeTempDir, removeTempDir } from '../temp';
import type { FuzzSpec } from './child';

const POOL_SIZE = 64 * 1024 * 1024;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const report = new Report('fuzz');
  const ops = args.count ?? (args.mode === 'long' ? 1_000_000 : 50_000);
  report.note(`mode ${args.mode}, seed ${args.seed}: ${ops} operations per engine`);
  for (const e of discoverEngines(args.engines)) {
    if (e.kind !== 'loaded') {
      if (e.kind === 'broken') report.fail(e.name, e.reason);
      else report.note(`${e.name} excluded: ${e.reason}`);
      continue;
    }
    const persistent = e.plugin.capabilities.persistent;
    if (!persistent) report.note(`${e.name}: volatile, so no close/reopen operations (nothing survives close)`);
    const seed = deriveSeed(args.seed, e.name);
    const dir = makeTempDir(`fuzz-${e.name}`);
    try {
      const config = baseConfig(e.plugin, join(dir, 'pool'), POOL_SIZE);
      const { create_if_missing: _create, ...reopen } = config;
      const spec: FuzzSpec = { packageDir: e.packageDir, engine: e.name, seed, ops, config, ...(persistent ? { reopenConfig: reopen } : {}) };
      let done = 0;
      let finished = false;
      let divergence: { op: number; what: string } | undefined;
      const end = await runChild(join(__dirname, 'child.js'), [JSON.stringify(spec)], {
        timeoutMs: 120_000 + ops * 2,
        onLine: (line) => {
          if (line.startsWith('ok ')) {
            done = Number(line.slice(3));
            report.pass();
          } else if (line.startsWith('done ')) {
            finished = true;
            if (Number(line.slice(5)) % 1000 !== 0) report.pass();
          } else if (line.startsWith('diverge ')) divergence = JSON.parse(line.slice(8)) as { op: number; what: string };
        },
      });
      const replay = `replay: --seed ${args.seed} --engines ${e.name} --count ${ops}`;
      if (divergence) report.fail(e.name, `diverged from the model at op ${divergence.op} (engine seed ${seed}; ${replay}): ${divergence.what}`);
      else if (!finished) report.fail(e.name, `the fuzz child died (${end.exit}) between op ${done} and op ${done + 1000} (engine seed ${seed}; ${replay})${stderrHint(end.stderr)}`);
      else report.note(`${e.name}: ${ops} operations matched the model`);
    } finally {
      removeTempDir(dir);
    }
  }
  report.finish();
}

runMain('fuzz', main);
