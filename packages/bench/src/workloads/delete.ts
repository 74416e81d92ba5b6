/**
 * deleterandom: removes every key once, in a seeded random order (each remove finds its key;
 * db_bench draws with replacement, which makes a third of its removes misses). Runs last in
 * its group: it empties the store.
 */
import type { Store } from '../stores/store';
import type { Context, Measurement } from './context';
import { runLoop } from './loop';
import { measure } from './measure';

export async function deleterandom(store: Store, ctx: Context, name: string): Promise<Measurement> {
  const { keys, options } = ctx;
  const order = ctx.deleteOrder();
  const key = keys.scratch();
  ctx.progress.begin(`${name} deleterandom`, options.num);
  const loop = await runLoop(options.num, (i) => store.remove(keys.write(order[i]!, key)), { progress: ctx.progress });
  ctx.progress.end();
  return measure('deleterandom', [loop]);
}
