/**
 * The JS engine of packages/core/README.md ("Writing an engine") passes the conformance suite:
 * test/support/readme-engine.ts is that example, and the README must show it verbatim (with
 * the import from '@pmemkv/core').
 */
import { expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runConformanceSuite } from '../src/conformance';
import { plugin } from './support/readme-engine';

runConformanceSuite({ engine: 'mymap', plugin, config: () => ({}) });

test('the README shows this engine verbatim', () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const source = readFileSync(join(__dirname, 'support', 'readme-engine.ts'), 'utf8').replace("from '../../src'", "from '@pmemkv/core'");
  expect(readme).toContain('```ts\n' + source + '```');
});
