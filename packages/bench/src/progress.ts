/**
 * Progress of long phases on stderr: a self-overwriting line on a terminal, or (with
 * --progress on a non-terminal) one line per tenth. Silent otherwise. Never writes to stdout.
 */
export interface Progress {
  /** Starts a phase of `total` operations (0 when open-ended). */
  begin(label: string, total: number): void;
  /** `done` operations of the current phase have finished. */
  update(done: number): void;
  end(): void;
}

export const silentProgress: Progress = { begin() {}, update() {}, end() {} };

export function stderrProgress(): Progress {
  const tty = process.stderr.isTTY === true;
  let label = '';
  let total = 0;
  let lastTenth = -1;
  let lastDraw = 0;
  return {
    begin(l, t) {
      label = l;
      total = t;
      lastTenth = -1;
      lastDraw = 0;
      if (tty) process.stderr.write(`\r\x1b[K${label} ...`);
      else process.stderr.write(`${label} ...\n`);
    },
    update(done) {
      if (total <= 0) return;
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < 200) return;
        lastDraw = now;
        process.stderr.write(`\r\x1b[K${label} ${Math.floor((done / total) * 100)}%`);
      } else {
        const tenth = Math.floor((done / total) * 10);
        if (tenth > lastTenth && tenth > 0 && tenth < 10) {
          lastTenth = tenth;
          process.stderr.write(`${label} ${tenth * 10}%\n`);
        }
      }
    },
    end() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
