// Type-checked (tsc, module nodenext) in the fresh application: ESM imports of core, of an
// engine's default export, of the conformance entry, and typed values.
import { open, registerEngine, type CustomEncoding, type Database, type EnginePlugin } from '@pmemkv/core';
import cmap from '@pmemkv/engine-cmap';
import tree3, { plugin as tree3Plugin } from '@pmemkv/engine-tree3';
import memtree from 'pmemkv-engine-memtree';
import { runConformanceSuite, type ConformanceOptions } from '@pmemkv/core/conformance';
import { includeDir } from '@pmemkv/native-pmemobj';

registerEngine(cmap);
registerEngine(memtree);
const names: string[] = [cmap.name, tree3.name, tree3Plugin.name];
const plugin: EnginePlugin = tree3;

interface User {
  name: string;
  age: number;
}
const users = open<User>('cmap', { path: '/dev/shm/types.kv', size: 1 << 30, create_if_missing: 1 }, { valueEncoding: 'json' });
const user: User | undefined = users.get('alice');
users.put('bob', { name: 'Bob', age: 42 });
// @ts-expect-error a json Database<string, User> does not return strings
const wrong: string | undefined = users.get('alice');

const dates: CustomEncoding<Date> = { encode: (d) => d.toISOString(), decode: (b) => new Date(b.toString('utf8')) };
const byDate: Database<string, Date> = open('memtree', null, { valueEncoding: dates });
const when: Date | undefined = byDate.get('x');
const buffers: Database<Buffer, Buffer> = open('memtree', null, { keyEncoding: 'buffer', valueEncoding: 'buffer' });

const options: ConformanceOptions = { engine: 'memtree', plugin: memtree, config: () => ({}) };
const run: (o: ConformanceOptions) => void = runConformanceSuite;
const headers: string = includeDir;
export { names, plugin, user, wrong, when, buffers, options, run, headers };
