/** The path of engine.gyp, the build settings every engine addon shares. */
declare const engineGyp: string;
export = engineGyp;
