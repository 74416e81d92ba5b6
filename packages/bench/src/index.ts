/**
 * @pmemkv/bench: db_bench workloads on pmemkv engines and peer stores, side by side.
 *
 *   const result = await runBench(parseOptions(['--quick']), { progress: silentProgress });
 *   console.log(textReport(result));
 *
 * The `pmemkv-bench` command (src/cli.ts) is this plus argument parsing and file output.
 */
export { runBench, plan, engineNames, type BenchResult, type StoreInfo, type RunHooks } from './runner';
export { parseOptions, HELP, WORKLOADS, OptionsError, type Options, type Workload } from './options';
export { silentProgress, stderrProgress, type Progress } from './progress';
export { textReport, table } from './report/table';
export { toJson, writeJson } from './report/json';
export { markdown, markdownTable, writeReport } from './report/markdown';
export { machineInfo, mediumInfo, type MachineInfo, type MediumInfo } from './machine';
export type { Measurement } from './workloads/context';
export type { Store, StoreDriver } from './stores/store';
