/**
 * overwrite (db_bench): num puts of keys drawn uniformly with replacement from the filled key
 * space, so every put replaces an existing value. Runs on the store fillrandom just filled.
 */
import { randomIndices, streamSeed, Streams } from '../keys';
import type { Store } from '../stores/store';
import type { Context, Measurement } from './context';
import { runLoop } from './loop';
import { measure } from './measure';

export async function overwrite(store: Store, ctx: Context, name: string): Promise<Measurement> {
  const { keys, values, options } = ctx;
  const order = randomIndices(options.num, options.num, streamSeed(options.seed, Streams.overwrite));
  const key = keys.scratch();
  ctx.progress.begin(`${name} overwrite`, options.num);
  // Values are shifted by one window so that each overwrite changes the stored bytes.
  const loop = await runLoop(options.num, (i) => store.put(keys.write(order[i]!, key), values.at(i + 1)), { progress: ctx.progress });
  ctx.progress.end();
  return measure('overwrite', [loop]);
}
