/** Installs the addon of the native package in `dir` (default: the working directory); sets process.exitCode on failure. Returns the exit status. */
declare function install(dir?: string): number;
declare namespace install {
  function install(dir?: string): number;
}
export = install;
