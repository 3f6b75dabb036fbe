import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareReports } from '../src/bench/compare.js';
import { linksMimalloc, NativeBench } from '../src/bench/native-variants.js';
import { type BenchReport, checkTargets, markdown, svgChart } from '../src/bench/report.js';
import { runDeployedBench } from '../src/bench/run-deployed.js';
import { runLocalBench } from '../src/bench/run-local.js';
import { writeReport } from '../src/bench/write-report.js';
import { newProject } from '../src/scaffold/new-project.js';
import { fn, type Running, startEmulator } from './support/emulator.js';
import { bootstrapPath, handlerPath } from './support/handlers.js';

describe('bench --deployed, run against the local emulator as the deployed Lambda', () => {
  let running: Running;
  const saved = { ...process.env };

  beforeAll(async () => {
    running = await startEmulator([
      fn({ name: 'bench-wasm', kind: 'wasm', code: handlerPath('workloads'), memoryMb: 512 }),
      fn({ name: 'bench-native', kind: 'native', code: bootstrapPath('workloads'), memoryMb: 512 }),
    ]);
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-secret' });
  });

  afterAll(async () => {
    process.env = saved;
    await running.emulator.stop();
  });

  it('reads Duration, Max Memory Used and Init Duration from the REPORT lines of LogType Tail', async () => {
    const report = await runDeployedBench({
      functions: { 'wasm-raw': 'bench-wasm', native: 'bench-native' },
      workloads: ['echo-1kb', 'sieve'],
      quick: true,
      endpoint: running.emulator.endpoint,
      region: 'us-east-1',
    });
    expect(report.mode).toBe('deployed');
    const sieve = report.cells.filter((c) => c.workload === 'sieve');
    expect(sieve.map((c) => c.variant)).toEqual(['wasm-raw', 'native']);
    for (const c of sieve) {
      expect(c.latency.samples).toBe(3);
      // A sieve to 5,000,000 takes milliseconds, and REPORT says how many.
      expect(c.latency.p50).toBeGreaterThan(1);
      expect(c.maxMemoryMb).toBeGreaterThan(0);
      expect(c.mismatch).toBeUndefined();
    }
    const cold = report.cells.filter((c) => c.workload === 'cold-start');
    expect(cold.map((c) => c.variant).sort()).toEqual(['native', 'wasm-raw']);
    expect(cold.every((c) => (c.initDurationMs ?? 0) > 0)).toBe(true);
    expect(report.targets.find((t) => t.name.startsWith('warm 1 KB echo'))?.ratio).toBeGreaterThan(0);
  });
});

describe('the local bench harness (--quick)', () => {
  let report: BenchReport;
  const onRic = Number(process.versions.node.split('.')[0]) >= 22;

  beforeAll(async () => {
    report = await runLocalBench({
      variants: ['wasm-raw', 'native', 'native-musl', 'node'],
      workloads: ['echo-1kb', 'http-get', 'aws-getitem', 'cold-start'],
      quick: true,
    });
  }, 900_000);

  it('measures client, server and in-process figures for every variant, and checks that they answer alike', () => {
    expect(report.format).toBe('wasi-lambda-bench/2');
    expect(report.cells.map((c) => `${c.workload}/${c.variant}`)).toEqual([
      'echo-1kb/wasm-raw',
      'echo-1kb/native',
      'echo-1kb/native-musl',
      'echo-1kb/node',
      'http-get/wasm-raw',
      'http-get/native',
      'http-get/node',
      'aws-getitem/wasm-raw',
      'aws-getitem/native',
      'aws-getitem/node',
      'cold-start/wasm-raw',
      'cold-start/native',
      'cold-start/native-musl',
      'cold-start/node',
    ]);
    for (const c of report.cells) {
      expect(c.mismatch, `${c.workload}/${c.variant}`).toBeUndefined();
      expect(c.latency.p50).toBeGreaterThan(0);
      expect(c.latency.p99).toBeGreaterThanOrEqual(c.latency.p50);
      expect(c.maxMemoryMb).toBeGreaterThan(0);
      // REPORT's Duration is part of the client's wait, never more.
      expect(c.server?.p50).toBeGreaterThan(0);
      expect(c.server?.p50).toBeLessThanOrEqual(c.latency.p50);
      // The native in-process binary has no AWS client: that one figure is left out, not faked.
      const inProcess = !c.cold && !(c.workload === 'aws-getitem' && c.variant === 'native');
      if (inProcess) expect(c.inProcess?.p50, `${c.workload}/${c.variant}`).toBeGreaterThan(0);
    }
    const echo = report.cells.find((c) => c.workload === 'echo-1kb' && c.variant === 'wasm-raw');
    // A tenth of the full run's 1,000 samples; the full run has at least 300 per warm figure.
    expect(echo?.latency.samples).toBe(100);
    expect(echo?.inProcess?.samples).toBe(100);
    expect(report.extras.bareNodeMs?.p50).toBeGreaterThan(0);
    expect(report.extras.hostCostUs?.guestUs).toBeGreaterThan(0);
    expect(report.extras.bridgeCostUs?.withCallUs).toBeGreaterThan(report.extras.bridgeCostUs?.withoutCallUs ?? 0);
    expect(report.extras.signingCostUs?.p50).toBeGreaterThan(0);
    expect(report.stability?.invocationsLate).toBe(3000);
    expect(report.machine.rustc).toMatch(/^rustc /);
  });

  it('measures the idle RSS of the process under test, not of the bench', () => {
    const cold = report.cells.filter((c) => c.cold);
    for (const c of cold) expect(c.idleRssMb, c.variant).toBeGreaterThan(0);
    const native = cold.find((c) => c.variant === 'native-musl')?.idleRssMb ?? 0;
    const wasm = cold.find((c) => c.variant === 'wasm-raw')?.idleRssMb ?? 0;
    // A static musl binary is a few MB; a Node.js process tens: each figure is its own process's.
    expect(native).toBeLessThan(20);
    expect(wasm).toBeGreaterThan(native * 2);
  });

  it('serves the Node.js baseline with aws-lambda-ric on Node.js 22+, and says why not otherwise', () => {
    if (onRic)
      expect(report.notes).toContain(`Node.js baseline: aws-lambda-ric ${ricVersion()} on Node.js ${process.version}`);
    else expect(report.notes.join('\n')).toMatch(/aws-lambda-ric 4 needs Node\.js ≥ 22/);
  });

  it('names every target after its baseline, and says why a row was not measured', () => {
    expect(report.targets.map((t) => t.name)).toEqual([
      '1 MB JSON transform in-process: wasm / native+mimalloc',
      'sieve in-process: wasm / native+mimalloc',
      'host cost per invocation in-process (1 KB echo less guest work)',
      'cold start: wasm raw / Node.js on aws-lambda-ric',
      'cold start: wasm raw / bare node (start and exit)',
      'idle RSS: wasm raw − Node.js on aws-lambda-ric',
      'one outbound GET to loopback through the Invoke API: wasm / native+mimalloc (p50)',
      'aws: one DynamoDB GetItem against moto through the Invoke API: wasm / native+mimalloc (p50)',
      'warm 1 KB echo through the Invoke API: wasm raw / native+mimalloc',
      'RSS after 3000 / after 100 warm invocations',
    ]);
    const byName = (prefix: string) => report.targets.find((t) => t.name.startsWith(prefix));
    expect(byName('host cost')).toMatchObject({ unit: 'µs', limit: 2 });
    expect(byName('host cost')?.ratio).toBeCloseTo(report.extras.hostCostUs?.costUs ?? Number.NaN, 6);
    expect(byName('idle RSS')).toMatchObject({ unit: 'MB', limit: 10 });
    expect(byName('one outbound GET')?.ratio).toBeGreaterThan(0);
    // Not in this run: no figure, no verdict.
    expect(byName('1 MB JSON transform')).toMatchObject({ ratio: undefined, met: undefined });
    expect(byName('aws:')?.ratio).toBeGreaterThan(0);
  });

  it('writes JSON, Markdown and an SVG chart with the three figures side by side', () => {
    const dir = writeReport(report, mkdtempSync(join(tmpdir(), 'wasi-lambda-bench-')));
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as BenchReport;
    expect(json.cells).toHaveLength(14);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain(
      '| variant | client p50 | p99 | server p50 | p99 | in-process p50 | p99 | client × | server × | in-process × | peak RSS MB |',
    );
    expect(md).toMatch(/\| native musl bootstrap \+ mimalloc( \| [\d.]+){6} \| 1\.00× \| 1\.00× \| 1\.00× \| \d+ \|/);
    expect(md).toMatch(
      /\| cold start: wasm raw \/ bare node \(start and exit\) \| [\d.]+× \| ≤ 1\.15× \| (yes|\*\*no\*\*) \|/,
    );
    expect(md).toMatch(
      /\| host cost per invocation in-process \(1 KB echo less guest work\) \([^)]*\) \| [\d.-]+ µs \| ≤ 2 µs \|/,
    );
    const svg = readFileSync(join(dir, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect [^>]*fill="#/g)?.length).toBeGreaterThanOrEqual(11);
  });

  it('compares two reports cell by cell', () => {
    const slower: BenchReport = {
      ...report,
      machine: { ...report.machine, arch: 'arm64' },
      cells: report.cells.map((c) => ({ ...c, latency: { ...c.latency, p50: c.latency.p50 * 2 } })),
    };
    const table = compareReports(report, slower, ['x86_64', 'arm64']);
    expect(table).toMatch(/\| echo-1kb \| wasm-raw \| [\d.]+ \| [\d.]+ \| 2\.00× \|/);
    expect(table).toContain('**arm64**: local, arm64');
  });

  it('flags a target it misses and does not judge what it could not measure', () => {
    const checks = checkTargets({
      cells: report.cells.map((c) => ({ ...c, latency: { ...c.latency, p50: c.variant === 'wasm-raw' ? 10 : 1 } })),
    });
    expect(checks.find((t) => t.name.startsWith('warm 1 KB echo'))).toMatchObject({ ratio: 10, met: false });
    expect(checks.find((t) => t.name.startsWith('sieve'))).toMatchObject({ ratio: undefined, met: undefined });
    expect(markdown({ ...report, targets: checks })).toContain('| **no** |');
    expect(svgChart(report)).toContain('p50 relative to native + mimalloc');
  });
});

describe('the native baselines', () => {
  it('the native row links mimalloc and the native-musl row does not', async () => {
    const native = NativeBench.open({ workspace: 'wasm-handlers', install: false });
    expect(linksMimalloc(await native.bootstrap('workloads', 'mimalloc'))).toBe(true);
    expect(linksMimalloc(await native.bootstrap('workloads', 'musl'))).toBe(false);
    expect(native.hasMimalloc('fetch')).toBe(false);
  }, 600_000);
});

function ricVersion(): string {
  const manifest = join(
    'wasm-handlers/target/wasi-lambda/bench/aws-lambda-ric/node_modules/aws-lambda-ric/package.json',
  );
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

describe('bench in a project made by `wasi-lambda new`', () => {
  it("benches the project's own handler on its sample events, with no flags", () => {
    const parent = mkdtempSync(join(tmpdir(), 'wl-bench-project-'));
    const { dir } = newProject({ name: 'greeter', template: 'basic', parent });
    // What `npm install` does with the scaffold's `file:` dev dependency: a link to this package.
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(resolve('.'), join(dir, 'node_modules', 'wasi-lambda'));
    const run = spawnSync(
      process.execPath,
      [resolve('dist/cli.js'), 'bench', '--quick', '--variants', 'wasm-raw', 'native', '-o', 'out'],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true' } },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('## greeter: hello');
    expect(run.stdout).toContain('## greeter: cold start');
    // No in-process figure for native: that needs this repository's bench binary.
    expect(run.stdout).toMatch(/\| native musl bootstrap( \| [\d.]+){4} \| — \| — \| 1\.00× \| 1\.00× \| — \|/);
    // wasi-lambda's targets are about its own workloads, not the user's function.
    expect(run.stdout).not.toContain('## Targets');
    const [stamp] = readdirSync(join(dir, 'out'));
    const report = JSON.parse(readFileSync(join(dir, 'out', stamp ?? '', 'report.json'), 'utf8')) as BenchReport;
    expect(report.project).toBe('greeter');
    expect(report.cells.map((c) => `${c.workload}/${c.variant}`)).toEqual([
      'greeter: hello/wasm-raw',
      'greeter: hello/native',
      'greeter: cold start/wasm-raw',
      'greeter: cold start/native',
    ]);
    for (const c of report.cells) expect(c.mismatch).toBeUndefined();
    expect(report.cells[0]?.inProcess?.p50).toBeGreaterThan(0);
  }, 900_000);
});
