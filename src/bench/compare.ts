import { readFileSync } from 'node:fs';
import { WasiLambdaError } from '../errors.js';
import { type BenchReport, cell, type VARIANT_TITLES } from './report.js';
import type { WORKLOAD_TITLES } from './workloads.js';

export function readReport(path: string): BenchReport {
  try {
    const report = JSON.parse(readFileSync(path, 'utf8')) as BenchReport;
    const format = String(report.format);
    if (format !== 'wasi-lambda-bench/2' && format !== 'wasi-lambda-bench/1')
      throw new Error(`unknown format ${format}`);
    // Format 1 had no notes and no extras; everything it had means the same in format 2.
    return { ...report, notes: report.notes ?? [], extras: report.extras ?? {} };
  } catch (err) {
    throw new WasiLambdaError('INVALID_INPUT', `${path} is not a wasi-lambda bench report: ${(err as Error).message}`);
  }
}

/**
 * Two reports side by side (e.g. an x86_64 and an arm64 Lambda, or two machines): p50 of
 * each cell and the ratio B / A.
 */
export function compareReports(a: BenchReport, b: BenchReport, names: [string, string] = ['A', 'B']): string {
  const describe = (r: BenchReport) =>
    `${r.mode}, ${r.machine.arch}, ${r.machine.cpuModel}, Node ${r.machine.node}, ${r.date}`;
  const lines = [
    '# wasi-lambda benchmark comparison',
    '',
    `- **${names[0]}**: ${describe(a)}`,
    `- **${names[1]}**: ${describe(b)}`,
    '',
    `| workload | variant | ${names[0]} p50 ms | ${names[1]} p50 ms | ${names[1]} / ${names[0]} |`,
    '| --- | --- | ---: | ---: | ---: |',
  ];
  const keys = new Set([...a.cells, ...b.cells].map((c) => `${c.workload}\u0000${c.variant}`));
  for (const key of [...keys].sort()) {
    const [workload, variant] = key.split('\u0000') as [keyof typeof WORKLOAD_TITLES, keyof typeof VARIANT_TITLES];
    const x = cell(a, variant, workload)?.latency.p50;
    const y = cell(b, variant, workload)?.latency.p50;
    const fmt = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(2));
    const ratio = x !== undefined && y !== undefined ? `${(y / x).toFixed(2)}×` : '—';
    lines.push(`| ${workload} | ${variant} | ${fmt(x)} | ${fmt(y)} | ${ratio} |`);
  }
  return `${lines.join('\n')}\n`;
}
