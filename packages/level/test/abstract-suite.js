'use strict';
/**
 * abstract-level's own test suite (`abstract-level/test`, run with tape) on one engine:
 *
 *   node test/abstract-suite.js <engine> [<engine package folder>]
 *
 * prints TAP on stdout (test/suite-runner.js runs this once per sorted engine and sums it up).
 * The engine package, when given, is loaded from its folder and registered, so an engine
 * that is not a dependency of this package is tested too.
 *
 * Every database the suite creates gets a fresh pool file (persistent engines, 8 MiB, the
 * smallest pool) or a private DRAM instance (volatile engines) in a temporary directory under
 * PMEMKV_TEST_DIR, else /dev/shm, else the OS temp dir. The suite creates about a thousand of
 * them, so pools are freed as the suite goes: when a tape test ends, every database of it that
 * is closed has its pool file removed, and a database opened only to hold a sublevel (the
 * suite reruns itself on `factory().sublevel('test')`) is closed and removed once its
 * sublevels are closed. The directory is removed when the process exits.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const tape = require('tape');
const suite = require('abstract-level/test');
const { findEngine, registerEngine } = require('@pmemkv/core');
const { PmemkvLevel } = require('..');

const POOL_SIZE = 8 * 1024 * 1024;
const VOLATILE_SIZE = 64 * 1024 * 1024;

const [engine, packageDir] = process.argv.slice(2);
if (engine === undefined) {
  console.error('usage: node test/abstract-suite.js <engine> [<engine package folder>]');
  process.exit(2);
}
if (packageDir !== undefined) {
  const loaded = require(packageDir);
  registerEngine(loaded.plugin ?? loaded.default ?? loaded);
}

function tempRoot() {
  const base = process.env.PMEMKV_TEST_DIR || (fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  return fs.mkdtempSync(path.join(base, `pmemkv-level-${engine}-`));
}

const root = tempRoot();
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

/** Databases created by the running tape test: { db, file, subs }. */
let live = [];
let created = 0;

const persistent = findEngine(engine).capabilities.persistent;

function factory(options) {
  const file = persistent ? path.join(root, `db-${++created}.pool`) : undefined;
  const db = persistent
    ? new PmemkvLevel(file, { ...options, engine, size: POOL_SIZE })
    : new PmemkvLevel({ ...options, engine, size: VOLATILE_SIZE });
  const entry = { db, file, subs: [] };
  // Sublevels made directly on this database are noted (a hook would show in the suite's hook tests).
  const sublevel = db.sublevel;
  db.sublevel = function (...args) {
    const sub = sublevel.apply(this, args);
    entry.subs.push(sub);
    return sub;
  };
  live.push(entry);
  return db;
}

/**
 * Frees what the tape test that just ended left behind (see the module comment). Runs when
 * the test ends and decides at once, so it never sees the databases of the next test.
 */
function sweep() {
  const keep = [];
  for (const entry of live) {
    const { db, file, subs } = entry;
    const remove = () => file !== undefined && fs.rmSync(file, { force: true });
    if (db.status === 'open' && subs.length > 0 && subs.every((sub) => sub.status === 'closed')) {
      db.close().then(remove, () => {});
    } else if (db.status === 'closed') {
      remove();
    } else {
      keep.push(entry);
    }
  }
  live = keep;
}

/** tape's `test`, with a sweep when each test ends; the test function is called unchanged. */
function test(name, ...rest) {
  const fn = rest.pop();
  return tape(name, ...rest, function (t) {
    t.once('end', sweep);
    return fn.call(this, t);
  });
}
for (const key of Object.keys(tape)) test[key] = tape[key];

suite({ test, factory });
