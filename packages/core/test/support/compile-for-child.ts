/**
 * Test engines for child processes: the crash test's child is plain `node`, which cannot load
 * TypeScript, so the test engines (and the contract module they import) are transpiled into a
 * directory that mirrors the package layout, keeping their relative imports valid.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import ts from 'typescript';

const PACKAGE_ROOT = join(__dirname, '..', '..');
const SOURCES = ['src/contract.ts', 'test/support/sorted-store.ts', 'test/support/memory-engine.ts', 'test/support/journal-engine.ts'];

/**
 * Transpiles the test engines into `outDir` and writes `outDir/<name>.js`, a module whose
 * default export is `createJournalPlugin(options)`. Returns that module's absolute path.
 */
export function journalPluginModule(outDir: string, name: string, options: { name?: string; bufferRecords?: number } = {}): string {
  for (const source of SOURCES) {
    const out = join(outDir, source.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(out), { recursive: true });
    const { outputText } = ts.transpileModule(readFileSync(join(PACKAGE_ROOT, source), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: source,
    });
    writeFileSync(out, outputText);
  }
  const entry = join(outDir, `${name}.js`);
  writeFileSync(entry, `'use strict';\nmodule.exports = { default: require('./test/support/journal-engine.js').createJournalPlugin(${JSON.stringify(options)}) };\n`);
  return entry;
}
