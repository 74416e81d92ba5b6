/**
 * Builds the barrier shim (barrier-shim.c) with gcc at run time, once per source version:
 * the shared object is cached under the OS temp directory, keyed by a hash of the source.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

function shimSource(): string {
  // src/crash/shim.ts under jest, dist/crash/shim.js when built: the C file lives in src/crash/.
  for (const candidate of [join(__dirname, 'barrier-shim.c'), resolve(__dirname, '..', '..', 'src', 'crash', 'barrier-shim.c')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`barrier-shim.c is missing (looked next to ${__dirname} and in src/crash/)`);
}

/** The path of the compiled shim. @throws Error when gcc fails (its output included). */
export function barrierShim(): string {
  const source = shimSource();
  const hash = createHash('sha1').update(readFileSync(source)).digest('hex').slice(0, 12);
  const out = join(tmpdir(), `pmemkv-barrier-shim-${hash}.so`);
  if (existsSync(out)) return out;
  const partial = `${out}.${process.pid}.tmp`;
  try {
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-Wall', '-Wextra', '-o', partial, source, '-ldl'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`gcc could not build the barrier shim from ${source}: ${e.stderr?.toString() ?? e.message}`);
  }
  renameSync(partial, out);
  return out;
}
