import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareReports } from '../src/bench/compare.js';
import { type BenchReport, checkTargets, markdown, svgChart } from '../src/bench/report.js';
import { runDeployedBench } from '../src/bench/run-deployed.js';
import { runLocalBench } from '../src/bench/run-local.js';
import { writeReport } from '../src/bench/write-report.js';
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
    expect(report.targets.find((t) => t.name.startsWith('compute-bound'))?.ratio).toBeGreaterThan(0);
  });
});

describe('the local bench harness', () => {
  let report: BenchReport;

  beforeAll(async () => {
    report = await runLocalBench({
      variants: ['wasm-raw', 'native', 'node'],
      workloads: ['echo-1kb', 'cold-start'],
      quick: true,
    });
  }, 300_000);

  it('measures every variant on every workload and checks that they answer alike', () => {
    expect(report.cells.map((c) => `${c.workload}/${c.variant}`)).toEqual([
      'echo-1kb/wasm-raw',
      'echo-1kb/native',
      'echo-1kb/node',
      'cold-start/wasm-raw',
      'cold-start/native',
      'cold-start/node',
    ]);
    for (const c of report.cells) {
      expect(c.mismatch).toBeUndefined();
      expect(c.latency.p50).toBeGreaterThan(0);
      expect(c.latency.p99).toBeGreaterThanOrEqual(c.latency.p50);
      expect(c.maxMemoryMb).toBeGreaterThan(0);
    }
    expect(
      report.cells.find((c) => c.workload === 'cold-start' && c.variant === 'wasm-raw')?.initDurationMs,
    ).toBeGreaterThan(0);
    expect(report.stability?.invocationsLate).toBe(3000);
    expect(report.machine.rustc).toMatch(/^rustc /);
  });

  it('writes JSON, Markdown and an SVG chart', () => {
    const dir = writeReport(report, mkdtempSync(join(tmpdir(), 'wasi-lambda-bench-')));
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as BenchReport;
    expect(json.cells).toHaveLength(6);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/\| wasm, raw-bytes runtime \| [\d.]+ \| [\d.]+ \| \d+ \| \d+ \| [\d.]+× \|/);
    expect(md).toContain('| warm 1 KB echo: wasm raw / native | ≤ 1.10× |');
    const svg = readFileSync(join(dir, 'chart.svg'), 'utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<rect [^>]*fill="#/g)?.length).toBeGreaterThanOrEqual(6);
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
    expect(checks.find((t) => t.name.startsWith('compute-bound'))).toMatchObject({ ratio: undefined, met: undefined });
    expect(markdown({ ...report, targets: checks })).toContain('| **no** |');
    expect(svgChart(report)).toContain('p50 latency relative to the native bootstrap');
  });
});
