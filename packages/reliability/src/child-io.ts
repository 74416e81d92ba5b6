/** Line output for child processes: blocking writes, so a line the parent read was complete before anything after it ran. */
import { writeSync } from 'node:fs';

/** Writes `line` and a newline to stdout, retrying while the pipe is momentarily full. */
export function say(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(1, bytes, off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}
