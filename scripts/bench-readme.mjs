// Prints the README's benchmark tables from one run's report.json: medians per variant (with
// the ratio to native + mimalloc) and the target table, so the README quotes a run verbatim.
//   node scripts/bench-readme.mjs bench-results/<time>/report.json
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

// The report's own formatting (src/bench/report.ts), bundled from the sources: no build step.
await build({
  stdin: { contents: "export * from './src/bench/report.ts';", resolveDir: process.cwd(), loader: 'ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile: join(process.cwd(), 'node_modules', '.cache', 'bench-readme.mjs'),
  logLevel: 'silent',
});
const { targetTable, VARIANT_TITLES, VARIANTS } = await import(
  pathToFileURL(join(process.cwd(), 'node_modules', '.cache', 'bench-readme.mjs')).href
);

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const cell = (variant, workload) => report.cells.find((c) => c.variant === variant && c.workload === workload);
const fmt = (ms) =>
  ms >= 10 ? `${ms.toFixed(1)} ms` : ms >= 0.1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`;
const columns = [
  ['1 KB echo, client', 'echo-1kb', 'latency'],
  ['1 KB echo, in-process', 'echo-1kb', 'inProcess'],
  ['1 MB transform, in-process', 'transform-1mb', 'inProcess'],
  ['sieve, in-process', 'sieve', 'inProcess'],
  ['outbound GET, client', 'http-get', 'latency'],
  ['DynamoDB GetItem, client', 'aws-getitem', 'latency'],
  ['cold start', 'cold-start', 'latency'],
];
const lines = [
  `| variant | ${columns.map(([title]) => title).join(' | ')} | idle RSS |`,
  `| --- | ${columns.map(() => '---:').join(' | ')} | ---: |`,
];
for (const variant of VARIANTS) {
  if (!report.cells.some((c) => c.variant === variant)) continue;
  const values = columns.map(([, workload, figure]) => {
    const value = cell(variant, workload)?.[figure]?.p50;
    const native = cell('native', workload)?.[figure]?.p50;
    if (value === undefined) return '—';
    return variant === 'native' || native === undefined
      ? fmt(value)
      : `${fmt(value)} (${(value / native).toFixed(2)}×)`;
  });
  const rss = cell(variant, 'cold-start')?.idleRssMb;
  lines.push(
    `| ${VARIANT_TITLES[variant]} | ${values.join(' | ')} | ${rss === undefined ? '—' : `${rss.toFixed(1)} MB`} |`,
  );
}
const bare = report.extras.bareNodeMs?.p50;
if (bare !== undefined)
  lines.push(`| bare \`node\` (starts and exits) |${' |'.repeat(columns.length - 1)} ${fmt(bare)} | |`);
const x = report.extras;
const costs = [
  x.hostCostUs &&
    `- **host cost per invocation** (in-process, 1 KB echo): ${x.hostCostUs.invokeUs.toFixed(1)} µs per invocation, of which ${x.hostCostUs.guestUs.toFixed(1)} µs inside the guest's \`handle\`: ${x.hostCostUs.costUs.toFixed(1)} µs of host work.`,
  x.bridgeCostUs &&
    `- **the outbound bridge per call** (in-process): ${x.bridgeCostUs.withCallUs.toFixed(0)} µs for an invocation with one loopback GET, ${x.bridgeCostUs.withoutCallUs.toFixed(0)} µs without, ${x.bridgeCostUs.directUs.toFixed(0)} µs for the same GET made directly by the host's client: ${x.bridgeCostUs.costUs.toFixed(0)} µs of bridge.`,
  x.signingCostUs &&
    `- **the host's signing per AWS request** (the grant decision and SigV4 of one DynamoDB GetItem): p50 ${(x.signingCostUs.p50 * 1000).toFixed(1)} µs, p99 ${(x.signingCostUs.p99 * 1000).toFixed(1)} µs.`,
].filter(Boolean);
process.stdout.write(`${lines.join('\n')}\n\n${costs.join('\n')}\n\n${targetTable(report.targets).join('\n')}\n`);
