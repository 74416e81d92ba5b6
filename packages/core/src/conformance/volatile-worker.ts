/**
 * A worker thread of the volatile placement group (`new Worker('volatile-worker.js', {
 * workerData })`): opens the engine with `config`, puts `count` keys `<prefix><i>`, posts
 * `{ written, count }` (the count its handle sees), then waits for the message 'close', closes
 * its handle and posts 'closed'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { open, registerEngine, type EnginePlugin } from '../index';

interface Job {
  engine: string;
  pluginModule?: string;
  config: Record<string, unknown>;
  prefix: string;
  count: number;
}

const job = workerData as Job;
if (job.pluginModule !== undefined) {
  const mod = require(job.pluginModule) as { default?: EnginePlugin; plugin?: EnginePlugin } & EnginePlugin;
  registerEngine(mod.default ?? mod.plugin ?? mod);
}
const db = open(job.engine, job.config);
for (let i = 0; i < job.count; i++) db.put(`${job.prefix}${i}`, `value of ${job.prefix}${i}`);
parentPort!.postMessage({ written: job.count, count: db.countAll() });
parentPort!.on('message', (m) => {
  if (m !== 'close') return;
  db.close();
  parentPort!.postMessage('closed');
  parentPort!.close();
});
