#!/usr/bin/env node
/**
 * pmemkv-bench: parses the command line, runs the benchmark, prints the report to stdout and
 * writes --json / --report files. Progress and warnings go to stderr.
 *
 * Exit status: 0 when every store that could be loaded finished every workload, 1 when a
 * workload failed, 2 on a bad command line, 130/143 when interrupted (after removing the
 * run directory and every pool in it).
 */
import { rmSync } from 'node:fs';
import { HELP, OptionsError, parseOptions } from './options';
import { silentProgress, stderrProgress } from './progress';
import { writeJson } from './report/json';
import { writeReport } from './report/markdown';
import { textReport } from './report/table';
import { runBench } from './runner';

export async function main(argv: readonly string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (err instanceof OptionsError) {
      process.stderr.write(`pmemkv-bench: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let runDir: string | undefined;
  const interrupted = (signal: NodeJS.Signals, code: number) => () => {
    if (runDir !== undefined) rmSync(runDir, { recursive: true, force: true });
    process.stderr.write(`\npmemkv-bench: interrupted by ${signal}${runDir !== undefined ? `; removed ${runDir}` : ''}\n`);
    process.exit(code);
  };
  process.once('SIGINT', interrupted('SIGINT', 130));
  process.once('SIGTERM', interrupted('SIGTERM', 143));
  const progress = process.stderr.isTTY === true || options.progress ? stderrProgress() : silentProgress;
  const result = await runBench(options, {
    progress,
    command: ['pmemkv-bench', ...argv].join(' '),
    onRunDir: (dir) => {
      runDir = dir;
    },
    onSkip: (name, reason) => process.stderr.write(`pmemkv-bench: ${name} not run: ${reason}\n`),
    onError: (store, workload, message) => process.stderr.write(`pmemkv-bench: ${store} ${workload} failed: ${message}\n`),
  });
  process.stdout.write(textReport(result));
  if (options.json !== undefined) {
    writeJson(options.json, result);
    process.stderr.write(`pmemkv-bench: wrote ${options.json}\n`);
  }
  if (options.report !== undefined) {
    const files = writeReport(options.report, result);
    process.stderr.write(`pmemkv-bench: wrote ${files.length} files to ${options.report}\n`);
  }
  return result.errors.length > 0 ? 1 : 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`pmemkv-bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
