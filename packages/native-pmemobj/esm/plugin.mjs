// ES module entry of @pmemkv/native-pmemobj/plugin: re-exports the CommonJS build.
import cjs from '../dist/plugin.js';

export const { nativeEngine } = cjs;
