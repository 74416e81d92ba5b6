/**
 * @pmemkv/reliability (private): pmemkv's reliability campaigns over every engine package in
 * packages/engine-*: SIGKILL crash recovery (crash/), differential fuzzing against a model
 * (fuzz/) and a table of bad inputs including damaged pools and killed pool creation
 * (bad-input/). Each campaign is a script (`dist/<campaign>/campaign.js`) taking --seed,
 * --count, --engines and --mode ci|long, printing one `N passed, N failed` line and exiting
 * non-zero on any failure; see README.md. This module exports the shared pieces for tools.
 */
export { parseArgs, type CampaignArgs, type Mode } from './cli';
export { discoverEngines, enginesRoot, type DiscoveredEngine, type LoadedEngine, type UnusableEngine } from './engines';
export { Report } from './report';
export { Rng } from './random';
export { Model as ReferenceModel } from './fuzz/model';
