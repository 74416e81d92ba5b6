/**
 * A campaign's tally: every check is one passed or one failed item; failures are printed as
 * they happen (one line each, naming the engine and enough to replay it), and `finish` prints
 * the one summary line `N passed, N failed` and sets the exit code (non-zero on any failure).
 */

export class Report {
  passed = 0;
  failed = 0;
  readonly #campaign: string;

  constructor(campaign: string) {
    this.#campaign = campaign;
  }

  pass(): void {
    this.passed++;
  }

  /** Counts a failure and prints `FAIL <campaign> <engine>: <what>` on stdout. */
  fail(engine: string, what: string): void {
    this.failed++;
    process.stdout.write(`FAIL ${this.#campaign} ${engine}: ${what}\n`);
  }

  /** An informational line (what runs, what is skipped and why). */
  note(text: string): void {
    process.stdout.write(`${this.#campaign}: ${text}\n`);
  }

  finish(): void {
    process.stdout.write(`${this.passed} passed, ${this.failed} failed\n`);
    process.exitCode = this.failed > 0 ? 1 : 0;
  }
}

/** Runs a campaign's main, turning an unexpected throw into a failure line and exit code 2. */
export function runMain(campaign: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    process.stdout.write(`FAIL ${campaign}: the campaign itself failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exitCode = 2;
  });
}
