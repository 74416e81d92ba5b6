/**
 * The child process of `check_on_open` (check-on-open.ts): argv = [path]. Prints one
 * verdict: `consistent`, `inconsistent`, `not-a-pool` or `locked` (held open by a process: the
 * open then reports what is there, or shares the pool it holds).
 * A signal or a non-zero exit is read by the parent as a damaged pool.
 */
import { checkPool } from './index';

const [path] = process.argv.slice(2);
try {
  process.stdout.write(checkPool(path!) ? 'consistent' : 'inconsistent');
} catch (err) {
  const message = (err as Error).message;
  // checkPool refuses what holds no pool before libpmemobj sees it; libpmemobj refuses a pool
  // another process holds open (its lock) and one it cannot read as a pool (damage).
  if (!/cannot check pool/.test(message)) process.stdout.write('not-a-pool');
  else if (/temporarily unavailable|would block/i.test(message)) process.stdout.write('locked');
  else process.stdout.write('inconsistent');
}
