/**
 * The ES module entry of @pmemkv/core/conformance re-exports every value of the CommonJS build
 * (it names them, since the suite cannot be imported outside jest to compare at run time).
 */
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

test('esm/conformance.mjs names every export of dist/conformance', () => {
  const source = readFileSync(join(ROOT, 'esm', 'conformance.mjs'), 'utf8');
  const list = /export const \{([^}]*)\}/.exec(source)?.[1] ?? '';
  const named = list.split(',').map((s) => s.trim()).filter(Boolean).sort();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cjs = Object.keys(require(join(ROOT, 'dist', 'conformance', 'index.js'))).sort();
  expect(named).toEqual(cjs);
});
