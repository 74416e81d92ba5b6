/**
 * What the run was measured on: the machine, and the medium under the run directory (its
 * mount and filesystem type from /proc/mounts, and whether libpmemobj sees persistent memory
 * there or is forced to by PMEM_IS_PMEM_FORCE).
 */
import { closeSync, openSync, readFileSync, realpathSync, rmSync, writeSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { requirePackage } from './stores/package-info';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly os: string;
  readonly arch: string;
  readonly node: string;
  /** 1-minute load average when the run started and when it ended (other work on the machine). */
  readonly loadAverage: { readonly start: number; readonly end: number };
}

export interface MediumInfo {
  readonly dir: string;
  readonly mountPoint: string | null;
  readonly fsType: string | null;
  /** pmem_is_pmem() on a mapping of a file in `dir`, as libpmemobj decides (null: unknown). */
  readonly isPmem: boolean | null;
  /** The PMEM_IS_PMEM_FORCE environment value ('1' forces pmem, '0' forbids it), or null. */
  readonly pmemForce: string | null;
  /** Why isPmem is unknown, when it is. */
  readonly isPmemError?: string;
  /** A sentence for the report. */
  readonly description: string;
}

/** @param loadAtStart the 1-minute load average sampled when the run started. */
export function machineInfo(loadAtStart: number): MachineInfo {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
    os: `${osType()} ${release()}`,
    arch: arch(),
    node: process.version,
    loadAverage: { start: loadAtStart, end: oneMinuteLoad() },
  };
}

export function oneMinuteLoad(): number {
  return loadavg()[0] ?? 0;
}

function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mount holding `dir` (longest matching mount point in /proc/mounts), or nulls off Linux. */
export function mountOf(dir: string): { mountPoint: string | null; fsType: string | null } {
  let real = dir;
  try {
    real = realpathSync(dir);
  } catch {
    // keep the given path
  }
  let text: string;
  try {
    text = readFileSync('/proc/mounts', 'utf8');
  } catch {
    return { mountPoint: null, fsType: null };
  }
  let best: { mountPoint: string; fsType: string } | null = null;
  for (const line of text.split('\n')) {
    const [, mp, fs] = line.split(' ');
    if (mp === undefined || fs === undefined) continue;
    const mountPoint = unescapeMount(mp);
    const inside = mountPoint === '/' || real === mountPoint || real.startsWith(mountPoint + '/');
    if (inside && (best === null || mountPoint.length >= best.mountPoint.length)) best = { mountPoint, fsType: fs };
  }
  return best ?? { mountPoint: null, fsType: null };
}

interface NativePmemobj {
  isPmem?: (path: string) => boolean;
}

const PROBE_BYTES = 2 * 1024 * 1024;

/** Asks libpmemobj (through @pmemkv/native-pmemobj) whether a file in `dir` is pmem. */
function probePmem(dir: string): { isPmem: boolean | null; error?: string } {
  let native: NativePmemobj;
  try {
    native = requirePackage<NativePmemobj>('@pmemkv/native-pmemobj');
  } catch (err) {
    return { isPmem: null, error: `@pmemkv/native-pmemobj could not be loaded: ${(err as Error).message}` };
  }
  if (typeof native.isPmem !== 'function') return { isPmem: null, error: '@pmemkv/native-pmemobj has no isPmem()' };
  const file = join(dir, 'pmem-probe');
  try {
    const fd = openSync(file, 'w');
    try {
      writeSync(fd, Buffer.alloc(PROBE_BYTES));
    } finally {
      closeSync(fd);
    }
    return { isPmem: native.isPmem(file) };
  } catch (err) {
    return { isPmem: null, error: (err as Error).message };
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * @param dir the directory the user chose.
 * @param probeDir a writable directory on the same medium for the pmem probe file (default `dir`).
 */
export function mediumInfo(dir: string, probeDir = dir): MediumInfo {
  const mount = mountOf(dir);
  const probe = probePmem(probeDir);
  const pmemForce = process.env.PMEM_IS_PMEM_FORCE ?? null;
  const where = `${dir} on ${mount.fsType ?? 'an unknown filesystem'}${mount.mountPoint ? ` (mounted at ${mount.mountPoint})` : ''}`;
  let pmem: string;
  if (probe.isPmem === null) pmem = `unknown whether libpmemobj sees pmem (${probe.error ?? 'no answer'})`;
  else if (probe.isPmem && pmemForce === '1') pmem = 'libpmemobj treats it as pmem because PMEM_IS_PMEM_FORCE=1 (flushes are CPU cache flushes; nothing reaches a device)';
  else if (probe.isPmem) pmem = 'libpmemobj sees real persistent memory (DAX)';
  else pmem = 'libpmemobj sees no pmem: every persist is an msync';
  const tmpfs = mount.fsType === 'tmpfs' ? '; tmpfs keeps data across process crashes but not across a reboot, and its fsync/msync have no device to wait for' : '';
  return {
    dir,
    mountPoint: mount.mountPoint,
    fsType: mount.fsType,
    isPmem: probe.isPmem,
    pmemForce,
    ...(probe.error !== undefined ? { isPmemError: probe.error } : {}),
    description: `${where}: ${pmem}${tmpfs}`,
  };
}
