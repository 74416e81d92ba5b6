#!/usr/bin/env node
'use strict';
/**
 * Runs abstract-level's own test suite (test/abstract-suite.js) on every sorted engine of the
 * repository and prints one line per engine:
 *
 *   pmemkv-level tree3: 1352 passed, 0 failed (4544 assertions, 16.0 s)
 *
 * Engines are discovered as the packages/engine-* folders: each package is loaded and its
 * plugin's capabilities decide. A sorted one (that iterates both ways and has sync methods) is
 * run, in a child process of its own, one engine after another; an unsorted one is listed as
 * not applicable. A package that exists but does not load is a failure, named with its error.
 * The exit code is non-zero when any engine failed to load or any test failed.
 *
 *   node test/suite-runner.js [engine ...]     only the engines named
 *   PMEMKV_LEVEL_SUITE_VERBOSE=1               also copy each engine's TAP to stdout
 *   PMEMKV_LEVEL_SUITE_TIMEOUT=<seconds>       per engine, default 300
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PACKAGES = path.resolve(__dirname, '..', '..');
const SUITE = path.join(__dirname, 'abstract-suite.js');
const TIMEOUT_MS = Number(process.env.PMEMKV_LEVEL_SUITE_TIMEOUT || 300) * 1000;
const VERBOSE = process.env.PMEMKV_LEVEL_SUITE_VERBOSE === '1';

/** Every packages/engine-* folder with a package.json: { name, dir } (runtime name from the folder). */
function discover() {
  return fs
    .readdirSync(PACKAGES)
    .filter((d) => d.startsWith('engine-') && fs.existsSync(path.join(PACKAGES, d, 'package.json')))
    .sort()
    .map((d) => ({ folder: d, dir: path.join(PACKAGES, d) }));
}

/** Loads an engine package: its plugin, or the reason it does not load. */
function load(dir) {
  try {
    const mod = require(dir);
    const plugin = mod.plugin ?? mod.default ?? mod;
    if (plugin === null || typeof plugin !== 'object' || typeof plugin.name !== 'string' || plugin.capabilities === undefined) {
      return { error: 'its main export is not an engine plugin' };
    }
    return { plugin };
  } catch (err) {
    return { error: String((err && err.message) || err).split('\n')[0] };
  }
}

function usable(caps) {
  return caps.sorted === true && caps.iterators === true && caps.reverse === true && caps.sync !== false;
}

/**
 * Counts a TAP stream from tape: assertions (ok / not ok lines) and test cases (the `# name`
 * comment that opens each; a case passes when none of its assertions failed).
 */
class TapCounter {
  constructor() {
    this.assertions = { pass: 0, fail: 0 };
    this.cases = [];
    this.planned = false;
    this.buffer = '';
    this.failures = [];
  }

  feed(chunk) {
    this.buffer += chunk;
    let nl;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      this.line(this.buffer.slice(0, nl));
      this.buffer = this.buffer.slice(nl + 1);
    }
  }

  line(text) {
    if (/^1\.\.\d+/.test(text)) this.planned = true;
    if (this.planned) return; // the summary after the plan line (# tests, # pass, # fail)
    if (text.startsWith('# ')) {
      this.cases.push({ name: text.slice(2), failed: false });
    } else if (/^ok \d+/.test(text)) {
      this.assertions.pass++;
    } else if (/^not ok \d+/.test(text)) {
      this.assertions.fail++;
      const current = this.cases[this.cases.length - 1];
      if (current !== undefined && !current.failed) {
        current.failed = true;
        this.failures.push(`${current.name}: ${text}`);
      } else if (current === undefined) {
        this.failures.push(text);
      }
    }
  }

  get passedCases() {
    return this.cases.filter((c) => !c.failed).length;
  }

  get failedCases() {
    return this.cases.filter((c) => c.failed).length;
  }
}

function runSuite(engine, dir) {
  return new Promise((resolve) => {
    const started = Date.now();
    const counter = new TapCounter();
    const child = spawn(process.execPath, [SUITE, engine, dir], {
      cwd: path.resolve(__dirname, '..'),
      env: { ...process.env, PMEM_IS_PMEM_FORCE: process.env.PMEM_IS_PMEM_FORCE ?? '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      counter.feed(chunk);
      if (VERBOSE) process.stdout.write(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr += chunk;
      if (VERBOSE) process.stderr.write(chunk);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      counter.feed('\n');
      resolve({ counter, code, signal, timedOut, stderr, seconds: (Date.now() - started) / 1000 });
    });
  });
}

async function main() {
  const only = process.argv.slice(2);
  let failed = false;
  let ran = 0;
  for (const { folder, dir } of discover()) {
    const expected = folder.slice('engine-'.length);
    if (only.length > 0 && !only.includes(expected)) continue;
    const { plugin, error } = load(dir);
    if (plugin === undefined) {
      console.log(`pmemkv-level ${expected}: FAILED, the engine package does not load (${error})`);
      failed = true;
      continue;
    }
    if (!usable(plugin.capabilities)) {
      console.log(`pmemkv-level ${plugin.name}: not applicable (not a sorted engine with sync methods that iterates both ways)`);
      continue;
    }
    const r = await runSuite(plugin.name, dir);
    ran++;
    const c = r.counter;
    const complete = r.code === 0 && !r.timedOut && c.planned;
    const why = r.timedOut ? `, killed after ${TIMEOUT_MS / 1000} s` : !c.planned || r.code !== 0 ? `, the suite process ended with ${r.signal ?? `exit code ${r.code}`}` : '';
    console.log(
      `pmemkv-level ${plugin.name}: ${c.passedCases} passed, ${c.failedCases} failed (${c.assertions.pass + c.assertions.fail} assertions, ${c.assertions.fail} failed; ${r.seconds.toFixed(1)} s${why})`,
    );
    for (const f of c.failures) console.log(`  not ok: ${f}`);
    if (!complete && r.stderr.trim() !== '') console.log(r.stderr.trim().split('\n').slice(-15).map((l) => `  ${l}`).join('\n'));
    if (!complete || c.failedCases > 0 || c.assertions.fail > 0) failed = true;
  }
  if (ran === 0 && !failed) {
    console.log('pmemkv-level: no sorted engine found under packages/engine-*');
    failed = true;
  }
  process.exitCode = failed ? 1 : 0;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}

module.exports = { runSuite, TapCounter };
