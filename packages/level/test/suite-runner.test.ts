// The suite runner can fail: abstract-level's suite on an engine broken on purpose (reverse
// iteration ascending) completes with failures, counted per test case. The runner's TAP
// counting is checked on a small stream as well.
import { expect, test } from '@jest/globals';
import { join } from 'node:path';

const { runSuite, TapCounter } = require('./suite-runner.js') as {
  runSuite(engine: string, dir: string): Promise<{ counter: any; code: number | null; timedOut: boolean }>;
  TapCounter: new () => any;
};

test('TAP counting: cases, assertions, failures by case, nothing after the plan', () => {
  const c = new TapCounter();
  c.feed('TAP version 13\n# one\nok 1 a\nok 2 b\n# two\nnot ok 3 c\n  ---\nnot ok 4 d\n# three\nok 5 e\n\n1..5\n# tests 5\n# pass  3\n# fail  2\n');
  expect(c.cases.map((x: { name: string }) => x.name)).toEqual(['one', 'two', 'three']);
  expect([c.passedCases, c.failedCases]).toEqual([2, 1]);
  expect(c.assertions).toEqual({ pass: 3, fail: 2 });
  expect(c.failures).toEqual(['two: not ok 3 c']);
  expect(c.planned).toBe(true);
});

test('a broken engine fails the suite, in the reverse-iteration tests', async () => {
  const r = await runSuite('level-broken', join(__dirname, 'fixtures', 'broken-engine.js'));
  expect(r.timedOut).toBe(false);
  expect(r.counter.planned).toBe(true);
  expect(r.counter.failedCases).toBeGreaterThan(10);
  expect(r.counter.passedCases).toBeGreaterThan(500);
  expect(r.counter.failures.join('\n')).toMatch(/reverse/);
  expect(r.code).not.toBe(0);
}, 180000);
