/**
 * Bad inputs travel from the campaign to its child processes as JSON, but many of them are not
 * JSON (undefined, symbols, bigints, NaN, functions, typed arrays, objects with an own
 * `__proto__`). A `V` describes such a value; `decode` builds it in the child.
 */

export type V =
  | { readonly $: 'json'; readonly v: unknown }
  | { readonly $: 'undefined' | 'symbol' | 'bigint' | 'nan' | 'inf' | 'fn' | 'date' | 'map' | 'f64array' | 'dataview' | 'int8array' | 'arraybuffer' | 'promise' }
  | { readonly $: 'buffer'; readonly hex: string }
  | { readonly $: 'object'; readonly entries: readonly (readonly [string, V])[]; readonly ownProto?: V }
  | { readonly $: 'array'; readonly items: readonly V[] }
  /** An object with no own keys whose prototype is `proto`. */
  | { readonly $: 'inherit'; readonly proto: V };

export const j = (v: unknown): V => ({ $: 'json', v });
export const special = (name: Exclude<V['$'], 'json' | 'buffer' | 'object' | 'array' | 'inherit'>): V => ({ $: name }) as V;
export const bytes = (b: Buffer): V => ({ $: 'buffer', hex: b.toString('hex') });
export const obj = (entries: Record<string, V>, ownProto?: V): V => ({ $: 'object', entries: Object.entries(entries), ...(ownProto ? { ownProto } : {}) });
export const arr = (...items: V[]): V => ({ $: 'array', items });

export function decode(v: V): unknown {
  switch (v.$) {
    case 'json':
      return v.v;
    case 'undefined':
      return undefined;
    case 'symbol':
      return Symbol('bad');
    case 'bigint':
      return 10n;
    case 'nan':
      return NaN;
    case 'inf':
      return Infinity;
    case 'fn':
      return () => 'bad';
    case 'date':
      return new Date(0);
    case 'map':
      return new Map([['k', 'v']]);
    case 'f64array':
      return new Float64Array([1, 2]);
    case 'dataview':
      return new DataView(new ArrayBuffer(4));
    case 'int8array':
      return new Int8Array([1, 2]);
    case 'arraybuffer':
      return new ArrayBuffer(4);
    case 'promise':
      return Promise.resolve('k');
    case 'buffer':
      return Buffer.from(v.hex, 'hex');
    case 'array':
      return v.items.map(decode);
    case 'inherit':
      return Object.create(decode(v.proto) as object) as unknown;
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, x] of v.entries) out[k] = decode(x);
      if (v.ownProto !== undefined) Object.defineProperty(out, '__proto__', { value: decode(v.ownProto), enumerable: true, writable: true, configurable: true });
      return out;
    }
  }
}

/** A short text of `v` for case names. */
export function describe(v: V): string {
  switch (v.$) {
    case 'json':
      return JSON.stringify(v.v) ?? String(v.v);
    case 'buffer':
      return `<${v.hex.length / 2}-byte Buffer>`;
    case 'array':
      return `[${v.items.map(describe).join(', ')}]`;
    case 'inherit':
      return `<object inheriting ${describe(v.proto)}>`;
    case 'object':
      return `{${[...(v.ownProto ? [`own __proto__: ${describe(v.ownProto)}`] : []), ...v.entries.map(([k, x]) => `${k}: ${describe(x)}`)].join(', ')}}`;
    default:
      return `<${v.$}>`;
  }
}
