// Runs the Quick start of README.md as written (the first ```js block after "## Quick start"),
// in a child process that loads the package by its name, and checks what it prints.
import { expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');

function quickStart(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (match === null) throw new Error('README.md has no ```js block under "## Quick start"');
  return match[1]!;
}

test('the README quick start runs as written and prints what its comments say', () => {
  const run = spawnSync(process.execPath, ['-'], { cwd: root, input: quickStart(), encoding: 'utf8', timeout: 30000 });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  expect(run.stdout).toBe(["grace 1906", "[ 'ada', 'alan', 'grace' ]", '{"born":1815}', ''].join('\n'));
});
