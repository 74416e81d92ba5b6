/**
 * How much CPU other processes used during a phase: the machine's busy time from /proc/stat
 * minus this process's own CPU time (every thread, workers included), over the wall time.
 * On a shared machine this tells which figures were measured while others competed for the
 * cores. Resolution is the kernel tick (10 ms): short phases read coarse.
 */
import { readFileSync } from 'node:fs';

export interface CpuSnapshot {
  readonly wallNs: bigint;
  /** Busy seconds of all CPUs since boot, or NaN where /proc/stat is unreadable. */
  readonly busySeconds: number;
  /** This process's user + system seconds. */
  readonly ownSeconds: number;
}

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture Node supports. */
const TICKS_PER_SECOND = 100;

function busySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy excludes idle and iowait.
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
    return busy / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const own = process.cpuUsage();
  return { wallNs: process.hrtime.bigint(), busySeconds: busySeconds(), ownSeconds: (own.user + own.system) / 1e6 };
}

/** Average number of cores other processes kept busy between `a` and `b` (NaN when unknown). */
export function otherCores(a: CpuSnapshot, b: CpuSnapshot): number {
  const wall = Number(b.wallNs - a.wallNs) / 1e9;
  if (!(wall > 0)) return NaN;
  const other = b.busySeconds - a.busySeconds - (b.ownSeconds - a.ownSeconds);
  return Math.max(0, other / wall);
}
