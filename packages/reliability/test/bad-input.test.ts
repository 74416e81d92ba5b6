// The bad-input campaign in CI mode over every engine package (see README.md for its sizes).
import { expect, test } from '@jest/globals';
import { campaignSeed, runCampaign } from './run-campaign';

const seed = campaignSeed();

test(`bad-input campaign, CI mode, every engine (seed ${seed})`, async () => {
  const run = await runCampaign('bad-input', seed);
  expect(run.failures).toEqual([]);
  expect({ signal: run.signal, summary: run.summary }).toEqual({ signal: null, summary: expect.stringMatching(/^[1-9]\d* passed, 0 failed$/) });
  expect(run.code).toBe(0);
}, 600_000);
