import { execFileSync } from 'node:child_process';
import { arch, cpus, platform, totalmem } from 'node:os';
import { VERSION } from '../version.js';
import type { Summary } from './stats.js';
import { WORKLOAD_TITLES, type WorkloadName } from './workloads.js';

export type VariantName =
  | 'wasm-raw'
  | 'wasm-fresh'
  | 'wasm-managed'
  | 'wasm-component'
  | 'native'
  | 'native-musl'
  | 'node';
export const VARIANTS: readonly VariantName[] = [
  'wasm-raw',
  'wasm-fresh',
  'wasm-managed',
  'wasm-component',
  'native',
  'native-musl',
  'node',
];

export const VARIANT_TITLES: Record<VariantName, string> = {
  'wasm-raw': 'wasm, raw-bytes runtime',
  'wasm-fresh': 'wasm, raw-bytes, fresh state per call',
  'wasm-managed': 'wasm, managed handler(event, context)',
  'wasm-component': 'wasm component (jco)',
  native: 'native musl bootstrap + mimalloc',
  'native-musl': "native musl bootstrap, musl's malloc",
  node: 'plain Node.js handler',
};

/** A variant's title in a report: a project's handler has no mimalloc build, so its native row is plain. */
export function variantTitle(report: Pick<BenchReport, 'project'>, variant: VariantName): string {
  return report.project !== undefined && variant === 'native' ? 'native musl bootstrap' : VARIANT_TITLES[variant];
}

/** One variant on one workload. */
export interface Cell {
  variant: VariantName;
  /** A `WorkloadName`, or in a user's project `<handler>: <event>`. */
  workload: string;
  /** Process start to first response rather than a warm invocation. */
  cold?: boolean | undefined;
  /** Client-side latency through the Invoke API (warm), or process start to first response (cold). */
  latency: Summary;
  /** Server-side: the REPORT line's Duration (warm), or Init Duration (cold). */
  server?: Summary | undefined;
  /** The handler called in-process with the event's bytes: no Runtime API, no HTTP, no process hop. */
  inProcess?: Summary | undefined;
  /** Sequential invocations per second (1 / mean latency). */
  throughputPerSec: number;
  /** Peak RSS of the runtime process, from the REPORT lines. */
  maxMemoryMb: number;
  /** Cold start: RSS of the runtime process once it answered its first invocation and sat idle. */
  idleRssMb?: number | undefined;
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
  /** 1-minute load average when the run started and when it ended: the machine may be shared. */
  load?: [number, number] | undefined;
}

/** A target: a ratio (`×`), a cost (`µs`) or a difference (`MB`), and whether it was met. */
export interface TargetCheck {
  name: string;
  limit: number;
  unit?: '×' | 'µs' | 'MB' | undefined;
  /** The measured value, in `unit`. (Named `ratio` since format 1, when every target was one.) */
  ratio: number | undefined;
  met: boolean | undefined;
  /** Why it was not measured, or how the value was computed. */
  note?: string | undefined;
}

export interface Stability {
  variant: VariantName;
  invocationsEarly: number;
  rssEarlyMb: number;
  invocationsLate: number;
  rssLateMb: number;
  growthPercent: number;
}

/** Figures measured once per run rather than per cell (µs and ms, medians). */
export interface Extras {
  /** `node -e ''`: process start to exit, the floor under every Node.js-based cold start. */
  bareNodeMs?: Summary | undefined;
  /** In-process, 1 KB echo: the whole host invocation, the time inside the guest's export, and their difference. */
  hostCostUs?: { invokeUs: number; guestUs: number; costUs: number } | undefined;
  /** In-process: an invocation with one loopback GET, less one without, less the same GET made directly. */
  bridgeCostUs?: { withCallUs: number; withoutCallUs: number; directUs: number; costUs: number } | undefined;
  /** The host's decision and SigV4 signing of one DynamoDB GetItem, per request. */
  signingCostUs?: Summary | undefined;
}

/** A benchmark run, as written to `report.json`. */
export interface BenchReport {
  format: 'wasi-lambda-bench/2';
  date: string;
  /** Set when the bench ran in a user's project (its own handlers and events, no targets). */
  project?: string | undefined;
  mode: 'local' | 'deployed';
  quick: boolean;
  machine: Machine;
  /** What ran each variant (e.g. the Node.js baseline's runtime client), and what was not measured and why. */
  notes: string[];
  cells: Cell[];
  extras: Extras;
  stability?: Stability | undefined;
  targets: TargetCheck[];
}

/** A numeric field of a REPORT line (`Duration`, `Max Memory Used`, `Init Duration`), if present. */
export function reportField(line: string, field: string): number | undefined {
  const match = new RegExp(`\\t${field}: ([\\d.]+)`).exec(line);
  return match?.[1] ? Number(match[1]) : undefined;
}

/** What a run produced, before the targets are checked. */
export interface Measured {
  cells: Cell[];
  extras?: Extras | undefined;
  notes?: string[] | undefined;
  stability?: Stability | undefined;
  load?: [number, number] | undefined;
}

/** A finished report: the cells, where and when they were measured, and the targets checked. */
export function benchReport(mode: BenchReport['mode'], quick: boolean, measured: Measured): BenchReport {
  const extras = measured.extras ?? {};
  return {
    format: 'wasi-lambda-bench/2',
    date: new Date().toISOString(),
    mode,
    quick,
    machine: { ...machine(), load: measured.load },
    notes: measured.notes ?? [],
    cells: measured.cells,
    extras,
    stability: measured.stability,
    targets: checkTargets({ cells: measured.cells, stability: measured.stability, extras, notes: measured.notes }),
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

export function cell(report: Pick<BenchReport, 'cells'>, variant: VariantName, workload: string): Cell | undefined {
  return report.cells.find((c) => c.variant === variant && c.workload === workload);
}

type Figure = 'latency' | 'server' | 'inProcess';

/** p50 of `a` over p50 of `b` for one figure; undefined when either is missing or answered differently. */
export function ratio(a: Cell | undefined, b: Cell | undefined, figure: Figure = 'latency'): number | undefined {
  if (!a || !b || a.mismatch || b.mismatch) return undefined;
  const x = a[figure]?.p50;
  const y = b[figure]?.p50;
  return x === undefined || y === undefined || Number.isNaN(x) || Number.isNaN(y) ? undefined : x / y;
}

function check(name: string, limit: number, unit: TargetCheck['unit'], value: number | undefined, note?: string) {
  const measured = value !== undefined && Number.isFinite(value);
  return {
    name,
    limit,
    unit,
    ratio: measured ? value : undefined,
    met: measured ? value <= limit : undefined,
    ...(note ? { note } : {}),
  };
}

/** The note a run left for a workload it could not measure (`not measured: …`), if any. */
function reasonFor(notes: readonly string[] | undefined, workload: WorkloadName): string | undefined {
  return notes?.find((n) => n.startsWith(`${workload}: not measured`));
}

/**
 * The project's performance targets (issue #14, with #11's and #12's benchmark rows), each
 * named after its baseline and checked on medians measured side by side in one run. A row
 * whose figures are missing is left unjudged, with the reason when the run gave one.
 */
export function checkTargets(
  report: Pick<BenchReport, 'cells'> & Partial<Pick<BenchReport, 'stability' | 'extras' | 'notes'>>,
): TargetCheck[] {
  const at = (v: VariantName, w: WorkloadName) => cell(report, v, w);
  const extras = report.extras ?? {};
  const coldWasm = at('wasm-raw', 'cold-start');
  const coldNode = at('node', 'cold-start');
  const bare = extras.bareNodeMs?.p50;
  const checks: TargetCheck[] = [
    check(
      '1 MB JSON transform in-process: wasm / native+mimalloc',
      1.3,
      '×',
      ratio(at('wasm-raw', 'transform-1mb'), at('native', 'transform-1mb'), 'inProcess'),
    ),
    check(
      'sieve in-process: wasm / native+mimalloc',
      1.1,
      '×',
      ratio(at('wasm-raw', 'sieve'), at('native', 'sieve'), 'inProcess'),
    ),
    check(
      'host cost per invocation in-process (1 KB echo less guest work)',
      2,
      'µs',
      extras.hostCostUs?.costUs,
      extras.hostCostUs
        ? `${extras.hostCostUs.invokeUs.toFixed(1)} µs per invocation − ${extras.hostCostUs.guestUs.toFixed(1)} µs inside the guest's export`
        : undefined,
    ),
    check('cold start: wasm raw / Node.js on aws-lambda-ric', 0.75, '×', ratio(coldWasm, coldNode)),
    check(
      'cold start: wasm raw / bare node (start and exit)',
      1.15,
      '×',
      coldWasm && bare !== undefined ? coldWasm.latency.p50 / bare : undefined,
    ),
    check(
      'idle RSS: wasm raw − Node.js on aws-lambda-ric',
      10,
      'MB',
      coldWasm?.idleRssMb !== undefined && coldNode?.idleRssMb !== undefined
        ? coldWasm.idleRssMb - coldNode.idleRssMb
        : undefined,
    ),
    check(
      'one outbound GET to loopback through the Invoke API: wasm / native+mimalloc (p50)',
      1.3,
      '×',
      ratio(at('wasm-raw', 'http-get'), at('native', 'http-get')),
      reasonFor(report.notes, 'http-get'),
    ),
    check(
      'aws: one DynamoDB GetItem against moto through the Invoke API: wasm / native+mimalloc (p50)',
      1.3,
      '×',
      ratio(at('wasm-raw', 'aws-getitem'), at('native', 'aws-getitem')),
      reasonFor(report.notes, 'aws-getitem'),
    ),
    check(
      'warm 1 KB echo through the Invoke API: wasm raw / native+mimalloc',
      1.1,
      '×',
      ratio(at('wasm-raw', 'echo-1kb'), at('native', 'echo-1kb')),
    ),
  ];
  const fresh = ratio(at('wasm-fresh', 'echo-1kb'), at('wasm-raw', 'echo-1kb'));
  if (fresh !== undefined) checks.push(check('fresh mode at 1 KB: fresh / reuse', 1.5, '×', fresh));
  if (report.stability) {
    const s = report.stability;
    checks.push(
      check(
        `RSS after ${s.invocationsLate} / after ${s.invocationsEarly} warm invocations`,
        1.05,
        '×',
        1 + s.growthPercent / 100,
      ),
    );
  }
  return checks;
}

const ms = (value: number | undefined) =>
  value === undefined || Number.isNaN(value) ? '—' : value < 10 ? value.toFixed(2) : value.toFixed(1);

function value(t: TargetCheck): string {
  if (t.ratio === undefined) return '—';
  if (t.unit === 'µs') return `${t.ratio.toFixed(1)} µs`;
  if (t.unit === 'MB') return `${t.ratio >= 0 ? '+' : ''}${t.ratio.toFixed(1)} MB`;
  return `${t.ratio.toFixed(2)}×`;
}

function limit(t: TargetCheck): string {
  if (t.unit === 'µs') return `≤ ${t.limit} µs`;
  if (t.unit === 'MB') return `≤ +${t.limit} MB`;
  return `≤ ${t.limit.toFixed(2)}×`;
}

/** The targets as a Markdown table: measured value, target, met. */
export function targetTable(targets: readonly TargetCheck[]): string[] {
  const lines = ['| target | measured | limit | met |', '| --- | ---: | ---: | :---: |'];
  for (const t of targets) {
    const met = t.met === undefined ? (t.note ? t.note : 'not measured') : t.met ? 'yes' : '**no**';
    const name = t.met !== undefined && t.note ? `${t.name} (${t.note})` : t.name;
    lines.push(`| ${name} | ${value(t)} | ${limit(t)} | ${met} |`);
  }
  return lines;
}

const p50 = (s: Summary | undefined) => ms(s?.p50);
const p99 = (s: Summary | undefined) => ms(s?.p99);
const times = (r: number | undefined) => (r === undefined ? '—' : `${r.toFixed(2)}×`);

/** The report as Markdown: one table per workload with the three figures side by side, then the targets. */
export function markdown(report: BenchReport): string {
  const m = report.machine;
  const load = m.load ? ` · load ${m.load[0].toFixed(1)} → ${m.load[1].toFixed(1)}` : '';
  const lines = [
    `# wasi-lambda benchmark (${report.mode}${report.quick ? ', quick' : ''})`,
    '',
    `${report.date} · ${m.arch} · ${m.cpuModel} × ${m.cpus} · ${m.memoryGb} GB · Node ${m.node} · ${m.rustc} · wasi-lambda ${m.wasiLambda}${load}`,
    '',
    'Times in ms: **client** = through the Invoke API (what a caller waits); **server** = the REPORT',
    "line's Duration; **in-process** = the handler called directly with the event's bytes (wasm: the",
    'host; native: a binary calling the same Rust function; Node.js: the handler function). Ratios are',
    `p50 over the ${report.project === undefined ? 'native+mimalloc' : 'native'} row of the same figure.`,
    '',
  ];
  for (const note of report.notes) lines.push(`- ${note}`);
  if (report.notes.length > 0) lines.push('');
  const workloads = [...new Set(report.cells.map((c) => c.workload))];
  for (const workload of workloads) {
    const native = cell(report, 'native', workload);
    const cells = report.cells.filter((x) => x.workload === workload);
    lines.push(`## ${WORKLOAD_TITLES[workload as WorkloadName] ?? workload}`, '');
    if (cells.some((c) => c.cold)) {
      lines.push('| variant | start → first response p50 | p99 | Init Duration p50 | idle RSS MB | vs native |');
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
      for (const c of cells) {
        lines.push(
          `| ${variantTitle(report, c.variant)}${c.mismatch ? ' (response differs!)' : ''} | ${ms(c.latency.p50)} | ${ms(c.latency.p99)} | ${ms(c.initDurationMs)} | ${c.idleRssMb?.toFixed(1) ?? '—'} | ${times(ratio(c, native))} |`,
        );
      }
      const bare = report.extras.bareNodeMs;
      if (bare && workload === 'cold-start')
        lines.push(`| bare \`node\` (start and exit) | ${p50(bare)} | ${p99(bare)} | | | |`);
    } else {
      lines.push(
        '| variant | client p50 | p99 | server p50 | p99 | in-process p50 | p99 | client × | server × | in-process × | peak RSS MB |',
      );
      lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
      for (const c of cells) {
        lines.push(
          `| ${variantTitle(report, c.variant)}${c.mismatch ? ' (response differs!)' : ''} | ${p50(c.latency)} | ${p99(c.latency)} | ${p50(c.server)} | ${p99(c.server)} | ${p50(c.inProcess)} | ${p99(c.inProcess)} | ${times(ratio(c, native))} | ${times(ratio(c, native, 'server'))} | ${times(ratio(c, native, 'inProcess'))} | ${c.maxMemoryMb} |`,
        );
      }
      const samples = cells[0]?.latency.samples;
      lines.push('', `${samples} samples per figure and variant, interleaved across variants in rounds.`);
    }
    lines.push('');
  }
  const x = report.extras;
  const costs = [
    x.hostCostUs &&
      `host cost per invocation in-process (1 KB echo): ${x.hostCostUs.invokeUs.toFixed(1)} µs per invocation, ${x.hostCostUs.guestUs.toFixed(1)} µs of it inside the guest's export: ${x.hostCostUs.costUs.toFixed(1)} µs`,
    x.bridgeCostUs &&
      `the outbound bridge's own cost per call, in-process: ${x.bridgeCostUs.withCallUs.toFixed(0)} µs (invocation with one loopback GET) − ${x.bridgeCostUs.withoutCallUs.toFixed(0)} µs (without) − ${x.bridgeCostUs.directUs.toFixed(0)} µs (the same GET made directly by the host's client) = ${x.bridgeCostUs.costUs.toFixed(0)} µs`,
    x.signingCostUs &&
      `the host's decision and SigV4 signing of one DynamoDB GetItem: p50 ${(x.signingCostUs.p50 * 1000).toFixed(1)} µs, p99 ${(x.signingCostUs.p99 * 1000).toFixed(1)} µs`,
  ].filter((line): line is string => typeof line === 'string');
  if (costs.length > 0) lines.push('## Costs of the host', '', ...costs.map((c) => `- ${c}`), '');
  if (report.stability) {
    const s = report.stability;
    lines.push(
      `RSS of the ${s.variant} runtime: ${s.rssEarlyMb} MB after ${s.invocationsEarly} invocations, ${s.rssLateMb} MB after ${s.invocationsLate} (${s.growthPercent >= 0 ? '+' : ''}${s.growthPercent.toFixed(1)} %).`,
      '',
    );
  }
  if (report.project === undefined) lines.push('## Targets', '', ...targetTable(report.targets));
  return `${lines.join('\n')}\n`;
}

const COLORS: Record<VariantName, string> = {
  'wasm-raw': '#2b6cb0',
  'wasm-fresh': '#2c5282',
  'wasm-managed': '#63b3ed',
  'wasm-component': '#805ad5',
  native: '#dd6b20',
  'native-musl': '#f6ad55',
  node: '#38a169',
};

/**
 * A grouped bar chart relative to native+mimalloc (1.0), one group per workload: warm
 * workloads in-process (the handler's own cost, no HTTP), cold start from process start to
 * first response.
 */
export function svgChart(report: BenchReport): string {
  const workloads = [...new Set(report.cells.map((c) => c.workload))];
  const variants = VARIANTS.filter((v) => report.cells.some((c) => c.variant === v));
  const cold = new Set(report.cells.filter((c) => c.cold).map((c) => c.workload));
  const figure = (w: string): Figure => (cold.has(w) ? 'latency' : 'inProcess');
  const ratios = workloads.map((w) =>
    variants.map((v) => ratio(cell(report, v, w), cell(report, 'native', w), figure(w)) ?? Number.NaN),
  );
  // Cold starts of a native binary are ~10× faster than any Node.js process; clip the axis
  // so warm differences stay readable, and label clipped bars with their value.
  const maxRatio = Math.min(3, Math.max(1.5, ...ratios.flat().filter((r) => Number.isFinite(r))));
  const [width, height, left, top, bottom] = [960, 460, 60, 50, 110];
  const plotHeight = height - top - bottom;
  const groupWidth = (width - left - 20) / Math.max(1, workloads.length);
  const barWidth = (groupWidth - 20) / Math.max(1, variants.length);
  const y = (value: number) => top + plotHeight - (value / maxRatio) * plotHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>wasi-lambda benchmark: p50 of each variant relative to the native bootstrap with mimalloc</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="24" font-size="15" font-weight="bold">p50 relative to native + mimalloc (lower is faster): warm workloads in-process, cold start end to end</text>`,
    `<text x="${left}" y="40" font-size="11">${report.machine.arch}, ${report.machine.cpuModel}, Node ${report.machine.node}${report.quick ? ', quick run' : ''}</text>`,
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
    const x = left + (j % 3) * 290;
    const row = height - 70 + Math.floor(j / 3) * 20;
    parts.push(
      `<rect x="${x}" y="${row}" width="12" height="12" fill="${COLORS[v]}"/>`,
      `<text x="${x + 16}" y="${row + 10}">${VARIANT_TITLES[v]}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
