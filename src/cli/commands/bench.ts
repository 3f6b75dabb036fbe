import { writeFileSync } from 'node:fs';
import { compareReports, readReport } from '../../bench/compare.js';
import { markdown, VARIANTS, type VariantName } from '../../bench/report.js';
import { runDeployedBench } from '../../bench/run-deployed.js';
import { runLocalBench } from '../../bench/run-local.js';
import { WORKLOADS, type WorkloadName } from '../../bench/workloads.js';
import { writeReport } from '../../bench/write-report.js';
import { withProgress } from '../../build/progress.js';
import { WasiLambdaError } from '../../errors.js';

export interface BenchCommandOptions {
  quick?: boolean;
  out: string;
  variants?: string[];
  workloads?: string[];
  workspace: string;
  install: boolean;
  deployed?: boolean;
  function: string[];
  region?: string;
  endpoint?: string;
}

function parseFunctions(pairs: readonly string[]): Partial<Record<VariantName, string>> {
  const functions: Partial<Record<VariantName, string>> = {};
  for (const pair of pairs) {
    const [variant, name] = pair.split('=');
    if (!name || !(VARIANTS as readonly string[]).includes(variant ?? '')) {
      throw new WasiLambdaError(
        'INVALID_INPUT',
        `--function expects VARIANT=NAME with VARIANT one of ${VARIANTS.join(', ')}; got "${pair}"`,
      );
    }
    functions[variant as VariantName] = name;
  }
  return functions;
}

/** `wasi-lambda bench`: runs the benchmark and writes JSON, Markdown and an SVG chart. */
export async function benchCommand(options: BenchCommandOptions): Promise<number> {
  const workloads = (options.workloads ?? [...WORKLOADS]) as WorkloadName[];
  const chosen = options.workloads ? ` (${workloads.join(', ')})` : '';
  const label = `benchmarking ${options.deployed ? 'deployed functions' : 'locally'}${chosen}`;
  const report = await withProgress(label, () =>
    options.deployed
      ? runDeployedBench({
          functions: parseFunctions(options.function),
          workloads,
          quick: options.quick ?? false,
          region: options.region,
          endpoint: options.endpoint,
        })
      : runLocalBench({
          variants: (options.variants ?? [...VARIANTS]) as VariantName[],
          workloads,
          quick: options.quick ?? false,
          workspace: options.workspace,
          install: options.install,
        }),
  );
  const dir = writeReport(report, options.out);
  process.stdout.write(markdown(report));
  process.stderr.write(`wasi-lambda: report written to ${dir}/report.{json,md} and ${dir}/chart.svg\n`);
  return 0;
}

/** `wasi-lambda bench compare A B`: two reports side by side. */
export async function benchCompareCommand(a: string, b: string, options: { out?: string }): Promise<number> {
  const table = compareReports(readReport(a), readReport(b), [a, b]);
  if (options.out) writeFileSync(options.out, table);
  process.stdout.write(table);
  return 0;
}
