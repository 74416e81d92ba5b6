#!/usr/bin/env bash
# The install test: what a user gets from npm, tried as a new user would, outside the workspace.
#   1. every publishable package follows the packaging conventions (apply-package-conventions.js);
#   2. each is packed with `pnpm pack` (workspace: ranges become real ones; none may remain),
#      and publint and @arethetypeswrong/cli find no problem in its tarball;
#   3. a fresh application in a temporary folder installs all the tarballs (and the example
#      third-party engine) with npm, install scripts allowed, on a PATH with no C/C++ compiler,
#      make or python: the prebuilds must be used, nothing compiled. It then opens cmap and tree3
#      by name, writes, reopens and reads (CommonJS, then a second process with ES modules), finds
#      memtree by name, and type-checks a .mts and a .cts file with TypeScript (nodenext);
#   4. a second application installs only @pmemkv/core and @pmemkv/engine-cmap: listEngines()
#      shows just cmap; without libpmemobj (a private mount namespace, when root) the install
#      still succeeds and open() names the package to install;
#   5. `npm rebuild @pmemkv/engine-cmap --build-from-source` compiles (compiler on PATH again);
#   6. `scripts/release.js --dry-run`: the release order and the ranges each tarball declares.
# Needs the packages built (scripts/setup.sh) and the npm registry (or npm's cache) for the
# third-party dependencies and TypeScript. Prints each tarball's packed size.
# INSTALL_TEST_ONLY="packages/core packages/engine-cmap ..." limits steps 1-3 to those folders
# (a quicker run while working on some packages; CI runs them all).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FIXTURE=$ROOT/scripts/install-test

read -r -a only <<<"${INSTALL_TEST_ONLY:-}"
node scripts/apply-package-conventions.js "${only[@]}"

work=$(mktemp -d "${TMPDIR:-/tmp}/pmemkv-install-test.XXXXXX")
pools=$(mktemp -d /dev/shm/pmemkv-install-test.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$work" "$pools"' EXIT
mkdir -p "$work/tarballs" "$work/bin"

# Publishable packages, plus the example engines under examples/ (private: packed for the
# application, never published).
mapfile -t dirs < <(node -e '
  const { publishablePackages, ROOT } = require("./scripts/apply-package-conventions.js");
  const fs = require("node:fs"), path = require("node:path");
  const only = process.argv.slice(1).map((d) => path.resolve(ROOT, d));
  const dirs = publishablePackages().map((p) => p.dir).filter((d) => only.length === 0 || only.includes(d));
  for (const e of fs.readdirSync(path.join(ROOT, "examples"))) if (e.startsWith("pmemkv-engine-")) dirs.push(path.join(ROOT, "examples", e));
  console.log(dirs.join("\n"));' "${only[@]}")

declare -A tarball
echo "install-test: packing ${#dirs[@]} packages"
for dir in "${dirs[@]}"; do
  name=$(node -p "require('$dir/package.json').name")
  if [[ -f "$dir/binding.gyp" ]] && ! compgen -G "$dir/prebuilds/linux-x64/*.node" >/dev/null; then
    echo "install-test: $name has no prebuild in prebuilds/linux-x64: build it first (pnpm run build in $dir)" >&2
    exit 1
  fi
  # The platforms the README promises: glibc >= 2.34 and GCC 12's libstdc++ (GLIBCXX_3.4.30).
  for node_file in "$dir"/prebuilds/linux-x64/*.node; do
    [[ -f "$node_file" ]] && command -v objdump >/dev/null || continue
    glibc=$(objdump -T "$node_file" | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -n1)
    glibcxx=$(objdump -T "$node_file" | grep -o 'GLIBCXX_3\.4\.[0-9]*' | sort -uV | tail -n1)
    if [[ "$(printf '%s\n' "$glibc" GLIBC_2.34 | sort -V | tail -n1)" != GLIBC_2.34 ]] \
      || [[ "$(printf '%s\n' "${glibcxx:-GLIBCXX_3.4.0}" GLIBCXX_3.4.30 | sort -V | tail -n1)" != GLIBCXX_3.4.30 ]]; then
      echo "install-test: $node_file needs $glibc $glibcxx, newer than the documented glibc 2.34 / GLIBCXX_3.4.30" >&2
      exit 1
    fi
  done
  file=$(cd "$dir" && pnpm pack --pack-destination "$work/tarballs" 2>/dev/null | grep '\.tgz$' | tail -n1)
  [[ "$file" = /* ]] || file="$work/tarballs/$(basename "$file")"
  tarball[$name]=$file
  if tar -xOzf "$file" package/package.json | grep -q '"workspace:'; then
    echo "install-test: $name: the packed package.json still has a workspace: range" >&2
    exit 1
  fi
  printf '  %-28s %8s bytes packed\n' "$name" "$(stat -c %s "$file")"
done

echo "install-test: publint and attw on every tarball"
lint_failed=0
for name in "${!tarball[@]}"; do
  file=${tarball[$name]}
  if ! out=$(node_modules/.bin/publint run "$file" --strict --level suggestion 2>&1) || grep -qE '^(Errors|Warnings|Suggestions):' <<<"$out"; then
    echo "publint: $name"; echo "$out"; lint_failed=1
  fi
  if ! out=$(node_modules/.bin/attw "$file" --format ascii 2>&1); then
    echo "attw: $name"; echo "$out"; lint_failed=1
  fi
done
((lint_failed == 0)) || { echo "install-test: publint or attw found problems" >&2; exit 1; }

# A PATH with node, npm and sh (npm runs scripts with it) only: no compiler, make or python.
for tool in node npm npx sh; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
for tool in cc gcc g++ c++ clang make python python3; do
  if PATH=$work/bin command -v "$tool" >/dev/null; then echo "install-test: $tool is still on the restricted PATH" >&2; exit 1; fi
done

# A fresh application depending on the given tarballs (overrides pin every @pmemkv package to
# its tarball, so nothing of ours comes from the registry).
make_app() {
  local app=$1; shift
  mkdir -p "$app"
  node -e '
    const [app, ...files] = process.argv.slice(1);
    const fs = require("node:fs"), path = require("node:path");
    const deps = {};
    for (const f of files) {
      const name = JSON.parse(require("node:child_process").execFileSync("tar", ["-xOzf", f, "package/package.json"])).name;
      deps[name] = "file:" + f;
    }
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", private: true, dependencies: deps, overrides: deps }, null, 2));
  ' "$app" "$@"
}

# npm install in application $1 with the restricted PATH; its log (with each install script
# npm ran and its exit code) goes to $1/npm.log, shown when the install fails.
npm_install() {
  local app=$1; shift
  if ! (cd "$app" && env -i HOME="$HOME" PATH="$work/bin" npm_config_cache="${npm_config_cache:-$HOME/.npm}" \
    npm install --prefer-offline --no-audit --no-fund --loglevel=info "$@" >npm.log 2>&1); then
    cat "$app/npm.log" >&2
    echo "install-test: npm install failed in $app" >&2
    exit 1
  fi
}

# Every native package's install script ran (npm allows them) and succeeded without compiling.
check_install_scripts() {
  local app=$1 dir name
  for dir in "$app"/node_modules/@pmemkv/* "$app"/node_modules/pmemkv-*; do
    [[ -f "$dir/binding.gyp" ]] || continue
    name=$(node -p "require('$dir/package.json').name")
    if [[ -d "$dir/build" ]]; then echo "install-test: $name was compiled at install ($dir/build): the prebuild was not used" >&2; exit 1; fi
    if ! grep -qE "run $name@[^ ]+ install \{ code: 0" "$app/npm.log"; then
      echo "install-test: npm did not run the install script of $name (see $app/npm.log)" >&2; exit 1
    fi
  done
}

app=$work/app
echo "install-test: installing every package into $app (no compiler on PATH)"
make_app "$app" "${tarball[@]}"
npm_install "$app" typescript@~5.9.3 @types/node@^20.19.0
check_install_scripts "$app"
cp "$FIXTURE"/roundtrip.cjs "$FIXTURE"/roundtrip.mjs "$FIXTURE"/types.mts "$FIXTURE"/types.cts "$FIXTURE"/tsconfig.json "$app/"
(cd "$app" && PATH=$work/bin node roundtrip.cjs "$pools" write && PATH=$work/bin node roundtrip.cjs "$pools" read \
  && PATH=$work/bin node roundtrip.mjs "$pools" && PATH=$work/bin node node_modules/typescript/bin/tsc -p tsconfig.json)
echo "install-test: types.mts and types.cts type-check (nodenext)"

one=$work/only-cmap
echo "install-test: installing only @pmemkv/core and @pmemkv/engine-cmap into $one"
make_app "$one" "${tarball[@pmemkv/core]}" "${tarball[@pmemkv/engine-cmap]}" "${tarball[@pmemkv/native-pmemobj]}"
node -e '
  const f = process.argv[1] + "/package.json", p = require(f);
  delete p.dependencies["@pmemkv/native-pmemobj"];
  require("node:fs").writeFileSync(f, JSON.stringify(p, null, 2));' "$one"
npm_install "$one"
check_install_scripts "$one"
cp "$FIXTURE"/only-one.cjs "$one/"
(cd "$one" && PATH=$work/bin node only-one.cjs)

# Without libpmemobj: a private mount namespace (root and unshare needed; the host is not
# touched) sees a copy of the library folder (hard links) without libpmem*. The install script
# must succeed and name the package to install; open() must fail with the same advice.
libdir=/usr/lib/x86_64-linux-gnu
if [[ $(id -u) -eq 0 ]] && unshare -m --propagation private true 2>/dev/null && cp -al "$libdir" "$work/libs" 2>/dev/null; then
  rm -f "$work"/libs/libpmem*
  out=$(cd "$one" && unshare -m --propagation private sh -c '
    mount --bind "$1" "$2" || exit 2
    cd node_modules/@pmemkv/engine-cmap && PATH=$3 node -e "require(\"@pmemkv/native-pmemobj/install\")()" 2>&1 || exit 3
    cd ../../.. && PATH=$3 node -e "
      try { require(\"@pmemkv/core\").open(\"cmap\", { path: process.argv[1], size: 33554432, create_if_missing: 1 }); console.log(\"opened\"); }
      catch (e) { console.log(e.code + \": \" + e.message); }" "$4/missing.kv"' sh "$work/libs" "$libdir" "$work/bin" "$pools") || {
    echo "install-test: the missing-libpmemobj run failed ($?): $out" >&2; exit 1; }
  if [[ $(grep -c 'apt-get install libpmemobj1' <<<"$out") -ne 2 ]] || ! grep -q '^UNKNOWN_ERROR: ' <<<"$out"; then
    echo "install-test: without libpmemobj, the install script and open() must both name libpmemobj1; got:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "install-test: without libpmemobj the install succeeds and open() says: apt-get install libpmemobj1"
else
  echo "install-test: skipped the missing-libpmemobj run (needs root, unshare and hard links into $libdir)"
fi
# --build-from-source compiles (with the ordinary PATH, where the compiler is) and the built
# addon is the one loaded afterwards.
if command -v g++ >/dev/null && command -v make >/dev/null && command -v python3 >/dev/null; then
  cmap_dir=$one/node_modules/@pmemkv/engine-cmap
  # Offline, node-gyp builds against the local Node headers.
  if [[ -f /usr/include/node/node.h ]]; then export npm_config_nodedir=/usr; fi
  (cd "$one" && npm rebuild @pmemkv/engine-cmap --build-from-source --no-audit --no-fund --loglevel=error >"$one/rebuild.log" 2>&1) || {
    cat "$one/rebuild.log" >&2; echo "install-test: npm rebuild --build-from-source failed" >&2; exit 1; }
  compgen -G "$cmap_dir/build/Release/*.node" >/dev/null || { echo "install-test: --build-from-source built nothing in $cmap_dir/build/Release" >&2; exit 1; }
  (cd "$one" && node -e "
    const file = require('node-gyp-build').resolve(process.argv[1]);
    if (!file.includes('/build/Release/')) { console.error('the prebuild is still loaded: ' + file); process.exit(1); }" "$cmap_dir" && PATH=$work/bin node only-one.cjs)
  echo "install-test: --build-from-source compiled the addon, and it is the one loaded"
else
  echo "install-test: skipped the --build-from-source run (needs g++, make and python3)"
fi

# What a release would publish (dependency order, no workspace: range): scripts/release.js.
node scripts/release.js --dry-run "${only[@]}"
echo "install-test: ok"
