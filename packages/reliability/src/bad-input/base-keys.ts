/** The pairs a bad-input base pool holds (ids 0..n-1), known to the child that exercises its damaged copies. */

export function baseKey(id: number, fixedSize: number | undefined): Buffer {
  return fixedSize !== undefined ? Buffer.from(`b${id}`.padStart(fixedSize, '_').slice(-fixedSize)) : Buffer.from(`base-key-${id}`);
}
export function baseValue(id: number, fixedSize: number | undefined): Buffer {
  return fixedSize !== undefined ? Buffer.from(`v${id}`.padStart(fixedSize, '_').slice(-fixedSize)) : Buffer.from(`base-value-${id}-${'x'.repeat(id % 50)}`);
}
