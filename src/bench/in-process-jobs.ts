import { awsConfig } from '../aws/aws-config.js';
import { parseEgressPolicy } from '../outbound/egress-policy.js';
import { bridgeCost, signingCost } from './host-costs.js';
import { hostCost, type InProcessRun, nodeInProcess, wasmInProcess } from './in-process.js';
import type { Summary } from './stats.js';

/**
 * One in-process measurement, as plain data, so that it can run in a child process (see
 * `PinnedRunner`): the egress grant and the AWS settings travel as the strings the bench
 * parsed them from, and the event as base64.
 */
export type InProcessJob =
  | {
      kind: 'wasm';
      path: string;
      instanceMode?: 'reuse' | 'fresh' | undefined;
      componentDir?: string | undefined;
      /** A `WASI_LAMBDA_ALLOW_HOSTS` entry. */
      egress?: string | undefined;
      /** The function's AWS environment (`awsConfig`), from which the guest sees its region and endpoint. */
      aws?: Record<string, string> | undefined;
      env?: Record<string, string> | undefined;
      event: string;
      samples: number;
      warmup: number;
    }
  | {
      kind: 'node';
      module: string;
      env?: Record<string, string> | undefined;
      event: string;
      samples: number;
      warmup: number;
    }
  | { kind: 'host-cost'; path: string; event: string; samples: number; warmup: number }
  | { kind: 'bridge-cost'; guest: string; url: string; grant: string; samples: number }
  | { kind: 'signing-cost'; samples: number };

/** What each kind of job answers. */
export interface InProcessAnswers {
  wasm: InProcessRun;
  node: InProcessRun;
  'host-cost': Awaited<ReturnType<typeof hostCost>>;
  'bridge-cost': Awaited<ReturnType<typeof bridgeCost>>;
  'signing-cost': Summary;
}

/** Runs one job in this process. */
export async function runInProcessJob(job: InProcessJob): Promise<InProcessAnswers[InProcessJob['kind']]> {
  switch (job.kind) {
    case 'wasm':
      return wasmInProcess(
        {
          path: job.path,
          instanceMode: job.instanceMode,
          componentDir: job.componentDir,
          allowHosts: job.egress === undefined ? undefined : parseEgressPolicy([job.egress], 'bench'),
          aws: job.aws === undefined ? undefined : awsConfig(job.aws),
          env: job.env,
        },
        Buffer.from(job.event, 'base64'),
        job.samples,
        job.warmup,
      );
    case 'node':
      return nodeInProcess(job.module, Buffer.from(job.event, 'base64'), job.samples, job.warmup, job.env);
    case 'host-cost':
      return hostCost(job.path, Buffer.from(job.event, 'base64'), job.samples, job.warmup);
    case 'bridge-cost':
      return bridgeCost(job.guest, { url: job.url, grant: job.grant }, job.samples);
    case 'signing-cost':
      return signingCost(job.samples);
  }
}
