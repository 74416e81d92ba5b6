/** Seed derivation: each engine and round gets its own stream from the campaign's base seed. */

/** FNV-1a of `text`, mixed with `base`: a 32-bit seed for one engine (or one part) of a campaign. */
export function deriveSeed(base: number, text: string): number {
  let h = (0x811c9dc5 ^ base) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
