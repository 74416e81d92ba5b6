/**
 * Command-line options shared by every campaign: `--seed N`, `--count N`, `--engines a,b`,
 * `--mode ci|long`. Unknown options are an error (a typo must not silently run the default).
 */

export type Mode = 'ci' | 'long';

export interface CampaignArgs {
  /** Base seed; every engine derives its own generator from it and the engine name. */
  readonly seed: number;
  /** Size override (operations, kills or inputs, per campaign); absent: the mode's size. */
  readonly count?: number;
  /** Engine names to run; absent: every discovered engine. */
  readonly engines?: readonly string[];
  readonly mode: Mode;
}

const USAGE = 'options: --seed <uint32> --count <n> --engines <name,name> --mode ci|long';

function wholeNumber(flag: string, text: string | undefined, max: number): number {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(n) || n < 0 || n > max) {
    throw new Error(`${flag} needs a whole number from 0 to ${max}, got ${JSON.stringify(text)} (${USAGE})`);
  }
  return n;
}

/** Parses `argv` (without node and the script). @throws Error naming the bad option. */
export function parseArgs(argv: readonly string[]): CampaignArgs {
  let seed: number | undefined;
  let count: number | undefined;
  let engines: string[] | undefined;
  let mode: Mode = 'ci';
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.includes('=') ? (argv[i]!.split(/=(.*)/s, 2) as [string, string]) : [argv[i]!, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--':
        break;
      case '--seed':
        seed = wholeNumber('--seed', value(), 0xffffffff);
        break;
      case '--count':
        count = wholeNumber('--count', value(), Number.MAX_SAFE_INTEGER);
        break;
      case '--engines':
        engines = (value() ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
        if (engines.length === 0) throw new Error(`--engines needs a comma-separated list of engine names (${USAGE})`);
        break;
      case '--mode': {
        const m = value();
        if (m !== 'ci' && m !== 'long') throw new Error(`--mode must be ci or long, got ${JSON.stringify(m)} (${USAGE})`);
        mode = m;
        break;
      }
      default:
        throw new Error(`unknown option ${JSON.stringify(argv[i])} (${USAGE})`);
    }
  }
  return { seed: seed ?? (Math.floor(Math.random() * 0x100000000) >>> 0), ...(count !== undefined ? { count } : {}), ...(engines ? { engines } : {}), mode };
}
