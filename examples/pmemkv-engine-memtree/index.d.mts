import type { EnginePlugin } from '@pmemkv/core';

/** The memtree engine's plugin. */
export declare const plugin: EnginePlugin;
export default plugin;
