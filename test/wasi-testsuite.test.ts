import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from './support/spawn.js';

/**
 * WebAssembly/wasi-testsuite's 72 wasm32-wasip1 tests, each run the way a user (or the
 * suite's own runner, through `tools/wasi-testsuite/wasi_lambda.py`) runs it: a spawned
 * `node dist/cli.js run X.wasm --env … --dir COPY/ROOT::/ -- ARGS`, in a private copy of
 * its folder as the cwd, checking the exit status and stdout the test's JSON expects.
 */
const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SUITE = resolve(repo, '../shared/wasi-testsuite');

/**
 * Tests expected to fail, each with why. Empty today: every test passes. A test listed
 * here that starts passing fails the run too, so the list stays honest.
 */
const KNOWN_FAILURES: Readonly<Record<string, string>> = {};

interface Expectation {
  args?: string[];
  env?: Record<string, string>;
  root?: string;
  exit_code?: number;
  stdout?: string;
}

function tests(): string[] {
  if (!existsSync(SUITE)) return [];
  return ['assemblyscript', 'c', 'rust'].flatMap((lang) => {
    const folder = join(SUITE, lang, 'testsuite', 'wasm32-wasip1');
    return readdirSync(folder)
      .filter((f) => f.endsWith('.wasm'))
      .map((f) => join(folder, f));
  });
}

const all = tests();
const scratch: string[] = [];

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

/** Runs one test in its own copy of its folder; says whether it passed and why not. */
async function runOne(wasm: string): Promise<{ passed: boolean; detail: string }> {
  const folder = dirname(wasm);
  const name = basename(wasm, '.wasm');
  const json = join(folder, `${name}.json`);
  const expected: Expectation = existsSync(json) ? JSON.parse(readFileSync(json, 'utf8')) : {};
  const work = mkdtempSync(join(tmpdir(), `wasi-testsuite-${name}-`));
  scratch.push(work);
  if (expected.root !== undefined) {
    cpSync(join(folder, expected.root), join(work, expected.root), { recursive: true });
    // The suite's files are read-only; the copy must be removable by a non-root user.
    for (const entry of readdirSync(work, { recursive: true })) chmodSync(join(work, String(entry)), 0o755);
  }
  const argv = ['dist/cli.js', 'run', wasm];
  for (const [k, v] of Object.entries(expected.env ?? {})) argv.push('--env', `${k}=${v}`);
  if (expected.root !== undefined) argv.push('--dir', `${join(work, expected.root)}::/`);
  argv.push('--', ...(expected.args ?? []));
  const result = await run(process.execPath, [join(repo, argv[0] as string), ...argv.slice(1)], { cwd: work });
  const code = expected.exit_code ?? 0;
  if (result.code !== code) {
    return { passed: false, detail: `exit ${result.code}, expected ${code}; stderr: ${result.stderr.slice(0, 2000)}` };
  }
  if (expected.stdout !== undefined && result.stdout !== expected.stdout) {
    return {
      passed: false,
      detail: `stdout ${JSON.stringify(result.stdout)}, expected ${JSON.stringify(expected.stdout)}`,
    };
  }
  return { passed: true, detail: '' };
}

describe.skipIf(all.length === 0)('wasi-testsuite (wasm32-wasip1) through `wasi-lambda run`', () => {
  it('has all 72 tests', () => {
    expect(all).toHaveLength(72);
    const names = new Set(all.map((w) => basename(w, '.wasm')));
    for (const known of Object.keys(KNOWN_FAILURES)) expect(names, `${known} is listed but absent`).toContain(known);
  });

  describe.concurrent.each(all.map((w) => [basename(w, '.wasm'), w] as const))('%s', (name, wasm) => {
    const reason = KNOWN_FAILURES[name];
    it(reason === undefined ? 'passes' : `fails (known: ${reason})`, async () => {
      const { passed, detail } = await runOne(wasm);
      if (reason === undefined) expect(passed, detail).toBe(true);
      else expect(passed, `${name} now passes: remove it from KNOWN_FAILURES`).toBe(false);
    }, 30_000);
  });
});

if (all.length === 0) {
  describe('wasi-testsuite', () => {
    it.skip(`skipped: ${SUITE} is absent (CI checks it out beside the repository as ../shared/wasi-testsuite)`, () => {});
  });
}
