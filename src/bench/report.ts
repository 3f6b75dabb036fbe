import { execFileSync } from 'node:child_process';
import { arch, cpus, platform, totalmem } from 'node:os';
import { VERSION } from '../version.js';
import type { Summary } from './stats.js';
import { WORKLOAD_TITLES, type WorkloadName } from './workloads.js';

export type VariantName = 'wasm-raw' | 'wasm-fresh' | 'wasm-managed' | 'wasm-component' | 'native' | 'node';
export const VARIANTS: readonly VariantName[] = [
  'wasm-raw',
  'wasm-fresh',
  'wasm-managed',
  'wasm-component',
  'native',
  'node',
];

export const VARIANT_TITLES: Record<VariantName, string> = {
  'wasm-raw': 'wasm, raw-bytes runtime',
  'wasm-fresh': 'wasm, raw-bytes, fresh state per call',
  'wasm-managed': 'wasm, managed handler(event, context)',
  'wasm-component': 'wasm component (jco)',
  native: 'native musl bootstrap',
  node: 'plain Node.js handler',
};

/** One variant on one workload. */
export interface Cell {
  variant: VariantName;
  workload: WorkloadName;
  /** Client-side latency through the Invoke API (warm), or process start to first response (cold). */
  latency: Summary;
  /** Sequential invocations per second (1 / mean latency). */
  throughputPerSec: number;
  /** Peak RSS of the runtime process, from the REPORT lines. */
  maxMemoryMb: number;
  /** Median Init Duration from REPORT lines (cold starts). */
  initDurationMs?: number | undefined;
  /** Median server-side Duration from REPORT lines. */
  reportDurationMs?: number | undefined;
  /** The response differed from the reference variant's: the timing is not comparable. */
  mismatch?: boolean | undefined;
}

export interface Machine {
  arch: string;
  platform: string;
  cpuModel: string;
  cpus: number;
  memoryGb: number;
  node: string;
  rustc: string;
  wasiLambda: string;
}

export interface TargetCheck {
  name: string;
  limit: number;
  ratio: number | undefined;
  met: boolean | undefined;
}

export interface Stability {
  variant: VariantName;
  invocationsEarly: number;
  rssEarlyMb: number;
  invocationsLate: number;
  rssLateMb: number;
  growthPercent: number;
}

/** A benchmark run, as written to `report.json`. */
export interface BenchReport {
  format: 'wasi-lambda-bench/1';
  date: string;
  mode: 'local' | 'deployed';
  quick: boolean;
  machine: Machine;
  cells: Cell[];
  stability?: Stability | undefined;
  targets: TargetCheck[];
}

/** A numeric field of a REPORT line (`Duration`, `Max Memory Used`, `Init Duration`), if present. */
export function reportField(line: string, field: string): number | undefined {
  const match = new RegExp(`\\t${field}: ([\\d.]+)`).exec(line);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** A finished report: the cells, where and when they were measured, and the targets checked. */
export function benchReport(
  mode: BenchReport['mode'],
  quick: boolean,
  cells: Cell[],
  stability?: Stability | undefined,
): BenchReport {
  return {
    format: 'wasi-lambda-bench/1',
    date: new Date().toISOString(),
    mode,
    quick,
    machine: machine(),
    cells,
    stability,
    targets: checkTargets({ cells, stability }),
  };
}

export function machine(): Machine {
  let rustc = 'unknown';
  try {
    rustc = execFileSync('rustc', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // No local Rust (e.g. a deployed-only run): the report says so.
  }
  return {
    arch: arch(),
    platform: platform(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    rustc,
    wasiLambda: VERSION,
  };
}

export function cell(
  report: Pick<BenchReport, 'cells'>,
  variant: VariantName,
  workload: WorkloadName,
): Cell | undefined {
  return report.cells.find((c) => c.variant === variant && c.workload === workload);
}

function ratio(a: Cell | undefined, b: Cell | undefined): number | undefined {
  if (!a || !b || a.mismatch || b.mismatch) return undefined;
  return a.latency.p50 / b.latency.p50;
}

/** The project's performance targets, checked on medians measured side by side. */
export function checkTargets(report: Pick<BenchReport, 'cells' | 'stability'>): TargetCheck[] {
  const rows: [string, number, number | undefined][] = [
    [
      'warm 1 KB echo: wasm raw / native',
      1.1,
      ratio(cell(report, 'wasm-raw', 'echo-1kb'), cell(report, 'native', 'echo-1kb')),
    ],
    [
      '1 MB JSON transform: wasm raw / native',
      1.3,
      ratio(cell(report, 'wasm-raw', 'transform-1mb'), cell(report, 'native', 'transform-1mb')),
    ],
    [
      'compute-bound: wasm raw / native',
      1.2,
      ratio(cell(report, 'wasm-raw', 'sieve'), cell(report, 'native', 'sieve')),
    ],
    [
      'cold start (~1 MB module): wasm raw / Node.js',
      1.15,
      ratio(cell(report, 'wasm-raw', 'cold-start'), cell(report, 'node', 'cold-start')),
    ],
  ];
  const checks = rows.map(([name, limit, value]) => ({
    name,
    limit,
    ratio: value,
    met: value === undefined ? undefined : value <= limit,
  }));
  const fresh = ratio(cell(report, 'wasm-fresh', 'echo-1kb'), cell(report, 'wasm-raw', 'echo-1kb'));
  if (fresh !== undefined)
    checks.push({ name: 'fresh mode at 1 KB: fresh / reuse', limit: 1.5, ratio: fresh, met: fresh <= 1.5 });
  if (report.stability) {
    const growth = 1 + report.stability.growthPercent / 100;
    checks.push({
      name: `RSS after ${report.stability.invocationsLate} / after ${report.stability.invocationsEarly} warm invocations`,
      limit: 1.05,
      ratio: growth,
      met: growth <= 1.05,
    });
  }
  return checks;
}

const ms = (value: number | undefined) =>
  value === undefined || Number.isNaN(value) ? '—' : value < 10 ? value.toFixed(2) : value.toFixed(1);

/** The report as Markdown: one table per workload, then the targets. */
export function markdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `# wasi-lambda benchmark (${report.mode}${report.quick ? ', quick' : ''})`,
    '',
    `${report.date} · ${m.arch} · ${m.cpuModel} × ${m.cpus} · ${m.memoryGb} GB · Node ${m.node} · ${m.rustc} · wasi-lambda ${m.wasiLambda}`,
    '',
  ];
  const workloads = [...new Set(report.cells.map((c) => c.workload))];
  for (const workload of workloads) {
    lines.push(`## ${WORKLOAD_TITLES[workload]}`, '');
    lines.push('| variant | p50 ms | p99 ms | throughput /s | peak RSS MB | vs native (p50) |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    const native = cell(report, 'native', workload);
    for (const c of report.cells.filter((x) => x.workload === workload)) {
      const vs = ratio(c, native);
      lines.push(
        `| ${VARIANT_TITLES[c.variant]}${c.mismatch ? ' (response differs!)' : ''} | ${ms(c.latency.p50)} | ${ms(c.latency.p99)} | ${c.throughputPerSec.toFixed(0)} | ${c.maxMemoryMb} | ${vs === undefined ? '—' : `${vs.toFixed(2)}×`} |`,
      );
    }
    lines.push('');
  }
  if (report.stability) {
    const s = report.stability;
    lines.push(
      `RSS of the ${s.variant} runtime: ${s.rssEarlyMb} MB after ${s.invocationsEarly} invocations, ${s.rssLateMb} MB after ${s.invocationsLate} (${s.growthPercent >= 0 ? '+' : ''}${s.growthPercent.toFixed(1)} %).`,
      '',
    );
  }
  lines.push('## Targets', '', '| target | limit | measured | met |', '| --- | ---: | ---: | :---: |');
  for (const t of report.targets) {
    lines.push(
      `| ${t.name} | ≤ ${t.limit.toFixed(2)}× | ${t.ratio === undefined ? '—' : `${t.ratio.toFixed(2)}×`} | ${t.met === undefined ? '—' : t.met ? 'yes' : '**no**'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const COLORS: Record<VariantName, string> = {
  'wasm-raw': '#2b6cb0',
  'wasm-fresh': '#2c5282',
  'wasm-managed': '#63b3ed',
  'wasm-component': '#805ad5',
  native: '#dd6b20',
  node: '#38a169',
};

/** A grouped bar chart of p50 latency relative to native (1.0), one group per workload. */
export function svgChart(report: BenchReport): string {
  const workloads = [...new Set(report.cells.map((c) => c.workload))];
  const variants = VARIANTS.filter((v) => report.cells.some((c) => c.variant === v));
  const ratios = workloads.map((w) =>
    variants.map((v) => {
      const c = cell(report, v, w);
      const native = cell(report, 'native', w);
      return c && native ? c.latency.p50 / native.latency.p50 : Number.NaN;
    }),
  );
  // Cold starts of a native binary are ~10× faster than any Node.js process; clip the axis
  // so warm differences stay readable, and label clipped bars with their value.
  const maxRatio = Math.min(3, Math.max(1.5, ...ratios.flat().filter((r) => Number.isFinite(r))));
  const [width, height, left, top, bottom] = [900, 440, 60, 50, 100];
  const plotHeight = height - top - bottom;
  const groupWidth = (width - left - 20) / Math.max(1, workloads.length);
  const barWidth = (groupWidth - 20) / Math.max(1, variants.length);
  const y = (value: number) => top + plotHeight - (value / maxRatio) * plotHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>wasi-lambda benchmark: p50 latency of each variant relative to the native bootstrap</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="bold">p50 latency relative to the native bootstrap (lower is faster) — ${report.machine.arch}, ${report.machine.cpuModel}</text>`,
    `<line x1="${left}" y1="${y(1)}" x2="${width - 20}" y2="${y(1)}" stroke="#dd6b20" stroke-dasharray="4 3"/>`,
    `<text x="${left - 8}" y="${y(1) + 4}" text-anchor="end">1×</text>`,
    `<text x="${left - 8}" y="${y(maxRatio) + 4}" text-anchor="end">${maxRatio.toFixed(1)}×</text>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}" stroke="#444"/>`,
  ];
  workloads.forEach((w, i) => {
    const x0 = left + 10 + i * groupWidth;
    variants.forEach((v, j) => {
      const r = ratios[i]?.[j] ?? Number.NaN;
      if (!Number.isFinite(r)) return;
      const x = x0 + j * barWidth;
      const shown = Math.min(r, maxRatio);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(shown).toFixed(1)}" width="${(barWidth - 4).toFixed(1)}" height="${(top + plotHeight - y(shown)).toFixed(1)}" fill="${COLORS[v]}"><title>${VARIANT_TITLES[v]}: ${r.toFixed(2)}×</title></rect>`,
        `<text x="${(x + (barWidth - 4) / 2).toFixed(1)}" y="${(y(shown) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${r > maxRatio ? '▲' : ''}${r.toFixed(2)}</text>`,
      );
    });
    parts.push(
      `<text x="${(x0 + (groupWidth - 20) / 2).toFixed(1)}" y="${top + plotHeight + 18}" text-anchor="middle">${w}</text>`,
    );
  });
  variants.forEach((v, j) => {
    const x = left + (j % 3) * 270;
    const row = height - 50 + Math.floor(j / 3) * 20;
    parts.push(
      `<rect x="${x}" y="${row}" width="12" height="12" fill="${COLORS[v]}"/>`,
      `<text x="${x + 16}" y="${row + 10}">${VARIANT_TITLES[v]}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
