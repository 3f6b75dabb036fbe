import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { WasiLambdaError } from '../errors.js';
import { Progress } from './progress.js';
import { type BenchReport, benchReport, type Cell, reportField, type VariantName } from './report.js';
import { summarize } from './stats.js';
import { type WorkloadName, workloadEvent } from './workloads.js';

export interface DeployedBenchOptions {
  /** Variant → deployed function name (or ARN). */
  functions: Partial<Record<VariantName, string>>;
  workloads: readonly WorkloadName[];
  quick: boolean;
  region?: string | undefined;
  /** Another Lambda-compatible endpoint, e.g. `wasi-lambda serve` (testing). */
  endpoint?: string | undefined;
}

/** Deployed functions cannot reach the bench's loopback server or moto: those workloads are local only. */
const SAMPLES: Record<WorkloadName, number> = {
  'echo-1kb': 200,
  'transform-1mb': 30,
  sieve: 20,
  'http-get': 0,
  'aws-getitem': 0,
  'cold-start': 0,
};

/**
 * Benchmarks deployed functions (x86_64 or arm64 Lambdas) through the AWS SDK. Latency is
 * the REPORT line's Duration from `LogType: Tail`, which excludes the network; a REPORT
 * with an Init Duration (a cold start) is recorded as the cold-start cell.
 */
export async function runDeployedBench(options: DeployedBenchOptions): Promise<BenchReport> {
  const entries = Object.entries(options.functions) as [VariantName, string][];
  if (entries.length === 0) {
    throw new WasiLambdaError('INVALID_INPUT', 'name at least one deployed function: --function wasm-raw=my-function');
  }
  const client = new LambdaClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: 1,
  });
  const workloads = options.workloads.filter((w) => SAMPLES[w] > 0);
  const count = (w: WorkloadName) => Math.max(3, Math.round(SAMPLES[w] * (options.quick ? 0.1 : 1)));
  const progress = new Progress(workloads.reduce((sum, w) => sum + count(w) * entries.length, 0));
  const cells: Cell[] = [];
  const inits = new Map<VariantName, number[]>();
  for (const workload of workloads) {
    const payload = workloadEvent(workload);
    for (const [variant, name] of entries) {
      const durations: number[] = [];
      let memory = 0;
      let body: string | undefined;
      for (let i = 0; i < count(workload); i++) {
        const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: payload, LogType: 'Tail' }));
        const log = Buffer.from(out.LogResult ?? '', 'base64').toString();
        const report = log.split('\n').find((line) => line.startsWith('REPORT')) ?? '';
        const duration = reportField(report, 'Duration');
        if (duration !== undefined) durations.push(duration);
        memory = Math.max(memory, reportField(report, 'Max Memory Used') ?? 0);
        const init = reportField(report, 'Init Duration');
        if (init !== undefined) inits.set(variant, [...(inits.get(variant) ?? []), init]);
        body ??= out.FunctionError
          ? `error: ${Buffer.from(out.Payload ?? []).toString()}`
          : Buffer.from(out.Payload ?? []).toString();
        progress.step(`${workload} · ${variant}`);
      }
      const latency = summarize(durations);
      cells.push({
        variant,
        workload,
        latency,
        throughputPerSec: 1000 / latency.mean,
        maxMemoryMb: memory,
        server: latency,
        reportDurationMs: latency.p50,
        mismatch: body?.startsWith('error: ') ? true : undefined,
      });
    }
  }
  for (const [variant, values] of inits) {
    const latency = summarize(values);
    cells.push({
      variant,
      workload: 'cold-start',
      cold: true,
      latency,
      throughputPerSec: 0,
      maxMemoryMb: 0,
      initDurationMs: latency.p50,
    });
  }
  progress.finish();
  return benchReport('deployed', options.quick, {
    cells,
    notes: [
      'deployed: every figure is the REPORT line of `LogType: Tail` (the network excluded); no in-process figure',
    ],
  });
}
