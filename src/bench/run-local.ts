import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { buildContext, buildHandlers } from '../build/build-handlers.js';
import { handlerPackages } from '../build/cargo-metadata.js';
import { NODE_BASELINES } from '../build/local-functions.js';
import { NATIVE_TARGET, resolveToolchain } from '../build/toolchain.js';
import { Emulator } from '../emulator/emulator.js';
import type { FunctionConfig } from '../emulator/function-config.js';
import { processMemory } from '../emulator/process-stats.js';
import { awsGuestVariables } from '../lambda/guest-env.js';
import { startLoopbackServer } from './host-costs.js';
import { type InProcessRun, nativeInProcess } from './in-process.js';
import { BENCH_HANDLER, type Variant, variantFunction } from './local-variants.js';
import { type MotoTable, startMotoTable } from './moto.js';
import { NativeBench } from './native-variants.js';
import { PinnedRunner } from './pinned-runner.js';
import { Progress } from './progress.js';
import {
  type BenchReport,
  benchReport,
  type Cell,
  type Extras,
  reportField,
  type Stability,
  type VariantName,
} from './report.js';
import { type Summary, summarize } from './stats.js';
import {
  WORKLOAD_HANDLERS,
  WORKLOAD_SAMPLES,
  type WorkloadEnvironment,
  type WorkloadName,
  workloadEvent,
} from './workloads.js';

export interface LocalBenchOptions {
  variants: readonly VariantName[];
  workloads: readonly WorkloadName[];
  /** A short run (a tenth of the samples) with the same table shape, for smoke tests and CI. */
  quick: boolean;
  workspace?: string | undefined;
  install?: boolean | undefined;
}

/** Rounds per warm cell: variants take turns, so drift on a shared machine hits all of them. */
const ROUNDS = 5;

/** One warm workload as the bench runs it: a handler, an event, and what the function may reach. */
interface Job {
  workload: string;
  handler: string;
  event: Buffer;
  samples: number;
  environment: Record<string, string>;
  /** Only a worker-isolated host can make outbound calls: the in-process wasm figure uses one. */
  egress?: string | undefined;
  /** The AWS environment (endpoint, grant, credentials) the host signs the guest's requests with. */
  aws?: Record<string, string> | undefined;
}

async function invoke(endpoint: string, name: string, event: Buffer): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const response = await fetch(`${endpoint}/2015-03-31/functions/${name}/invocations`, {
    method: 'POST',
    body: new Uint8Array(event),
  });
  const body = await response.text();
  return { ms: performance.now() - started, body };
}

/** Values of one REPORT field (e.g. `Max Memory Used`) in the lines of one function. */
function reportValues(lines: readonly string[], field: string): number[] {
  return lines.flatMap((line) => {
    const value = line.startsWith('REPORT') ? reportField(line, field) : undefined;
    return value === undefined ? [] : [value];
  });
}

/** RSS of the process under test, MB, from /proc. */
function rssMb(pid: number | undefined): number {
  const memory = pid === undefined ? undefined : processMemory(pid);
  return memory ? Math.round((memory.rssKb / 1024) * 10) / 10 : Number.NaN;
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Runs every workload on every variant, side by side in one run, and measures three figures
 * for each: the client's latency through the Invoke API and the REPORT line's Duration
 * (through the local emulator, each variant in its own runtime process, interleaved in
 * rounds), then the handler called in-process with no HTTP at all. Cold starts spawn a new
 * runtime per sample. In a project made by `wasi-lambda new` (no `workloads` crate in the
 * workspace) it benches the project's own handlers on its sample events instead.
 */
export async function runLocalBench(options: LocalBenchOptions): Promise<BenchReport> {
  const load: [number, number] = [loadavg()[0] ?? 0, 0];
  const { workspace, note, install } = buildContext(options);
  const toolchain = resolveToolchain(NATIVE_TARGET, { install, note, workspace });
  const packages = handlerPackages(workspace, toolchain).map((p) => p.name);
  if (!packages.includes(BENCH_HANDLER)) return runProjectBench({ ...options, workspace }, packages, load);

  const scale = options.quick ? 0.1 : 1;
  const count = (w: WorkloadName) => Math.max(w === 'cold-start' ? 3 : ROUNDS, Math.round(WORKLOAD_SAMPLES[w] * scale));
  const native = NativeBench.open({ workspace, install });
  const pinned = PinnedRunner.open();
  const notes: string[] = [pinned.note];
  const cells: Cell[] = [];
  const extras: Extras = {};
  const server = options.workloads.includes('http-get') ? await startLoopbackServer() : undefined;
  let moto: MotoTable | undefined;
  let stability: Stability | undefined;
  try {
    if (options.workloads.includes('aws-getitem') && packages.includes(WORKLOAD_HANDLERS['aws-getitem'])) {
      moto = await startMotoTable();
    }
    const env: WorkloadEnvironment = { httpUrl: server?.url, table: moto?.table };
    const jobs: Job[] = [];
    for (const workload of options.workloads.filter((w) => w !== 'cold-start')) {
      const handler = WORKLOAD_HANDLERS[workload];
      if (!packages.includes(handler)) {
        notes.push(
          workload === 'aws-getitem'
            ? `${workload}: not measured: the workspace has no \`${handler}\` handler; it needs the SDK's \`aws\` feature (the guest side of #12), which has not landed`
            : `${workload}: not measured: the workspace has no \`${handler}\` handler`,
        );
        continue;
      }
      const grant = server && workload === 'http-get' ? server.grant : undefined;
      const aws = workload === 'aws-getitem' ? moto?.environment : undefined;
      jobs.push({
        workload,
        handler,
        event: workloadEvent(workload, env),
        samples: count(workload),
        environment: grant ? { WASI_LAMBDA_ALLOW_HOSTS: grant } : (aws ?? {}),
        egress: grant,
        aws,
      });
    }
    const progress = new Progress(
      jobs.reduce((sum, j) => sum + j.samples * options.variants.length * 2, 0) +
        (options.workloads.includes('cold-start') ? count('cold-start') * options.variants.length : 0),
    );
    for (const job of jobs) {
      const variants = await prepareVariants(options.variants, job, { workspace, install, native, notes });
      const measured = await measureWarm(job, variants, progress);
      cells.push(...measured.cells);
      if (job.workload === 'echo-1kb' && options.variants.includes('wasm-raw')) stability = measured.stability;
      await measureInProcess(job, variants, measured.cells, { workspace, native, notes, progress, pinned });
    }
    if (options.workloads.includes('cold-start')) {
      const job: Job = {
        workload: 'cold-start',
        handler: BENCH_HANDLER,
        event: workloadEvent('cold-start'),
        samples: count('cold-start'),
        environment: {},
      };
      const variants = await prepareVariants(options.variants, job, { workspace, install, native, notes });
      cells.push(...(await coldStarts(variants, job, progress)));
      extras.bareNodeMs = await bareNode(count('cold-start'));
    }
    progress.finish();

    // Per-run costs of the host, in-process.
    const inProcessSamples = options.quick ? 2000 : 20_000;
    if (options.workloads.includes('echo-1kb')) {
      const wasm = (await buildHandlers({ workspace, install })).handlers[BENCH_HANDLER];
      const event = Buffer.from(workloadEvent('echo-1kb')).toString('base64');
      if (wasm) {
        extras.hostCostUs = await pinned.run({
          kind: 'host-cost',
          path: wasm,
          event,
          samples: inProcessSamples,
          warmup: 2000,
        });
      }
    }
    if (server && options.workloads.includes('http-get')) {
      const guest = (await buildHandlers({ workspace, install })).handlers['http-guest'];
      const samples = options.quick ? 200 : 1000;
      if (guest) {
        extras.bridgeCostUs = await pinned.run({
          kind: 'bridge-cost',
          guest,
          url: server.url,
          grant: server.grant,
          samples,
        });
      } else notes.push('the bridge cost per call needs the `http-guest` test guest, which this workspace lacks');
    }
    if (options.workloads.includes('aws-getitem')) {
      extras.signingCostUs = await pinned.run({ kind: 'signing-cost', samples: options.quick ? 500 : 5000 });
    }
  } finally {
    await server?.close();
    moto?.stop();
  }
  load[1] = loadavg()[0] ?? 0;
  return benchReport('local', options.quick, { cells, extras, notes, stability, load });
}

interface Prepared {
  variant: VariantName;
  fn: FunctionConfig;
  /** The Node.js twin's task root and module (node variant only). */
  nodeModule?: string | undefined;
}

async function prepareVariants(
  variants: readonly VariantName[],
  job: Pick<Job, 'workload' | 'handler' | 'environment'>,
  context: { workspace: string; install: boolean; native: NativeBench; notes: string[] },
): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  for (const variant of variants) {
    const result: Variant = await variantFunction(variant, job.handler, {
      workspace: context.workspace,
      install: context.install,
      native: context.native,
      baselines: resolve(NODE_BASELINES),
      environment: job.environment,
    });
    if ('skipped' in result) {
      note(context.notes, `${job.workload}, ${variant}: ${result.skipped}`);
      continue;
    }
    if (result.node) {
      const who = variant === 'node' ? 'Node.js baseline' : variant;
      note(context.notes, `${who}: ${result.node.servedBy}`);
      if (result.node.fallback) note(context.notes, `${who} not on aws-lambda-ric: ${result.node.fallback}`);
    }
    const taskRoot = result.fn.kind === 'native' ? resolve(result.fn.code, '..') : result.fn.code;
    const nodeModule = variant === 'node' ? join(taskRoot, `${job.handler}.mjs`) : undefined;
    prepared.push({ variant, fn: result.fn, nodeModule });
  }
  return prepared;
}

function note(notes: string[], text: string): void {
  if (!notes.includes(text)) notes.push(text);
}

/** Client latency and REPORT Duration of every variant, interleaved in rounds through one emulator. */
async function measureWarm(
  job: Job,
  variants: Prepared[],
  progress: Progress,
): Promise<{ cells: Cell[]; stability?: Stability | undefined }> {
  const logs: string[] = [];
  const emulator = await Emulator.start({ functions: variants.map((v) => v.fn), logSink: (line) => logs.push(line) });
  try {
    const client = new Map<string, number[]>(variants.map((v) => [v.variant, []]));
    const server = new Map<string, number[]>(variants.map((v) => [v.variant, []]));
    const bodies = new Map<string, string>();
    const memory = new Map<string, number>();
    // Warm every environment first: compile caches, JIT tiers, first-call costs.
    for (const v of variants) {
      for (let i = 0; i < Math.max(3, job.samples / 10); i++) {
        bodies.set(v.variant, (await invoke(emulator.endpoint, v.variant, job.event)).body);
      }
    }
    const perRound = Math.ceil(job.samples / ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of variants) {
        logs.length = 0;
        for (let i = 0; i < perRound; i++)
          client.get(v.variant)?.push((await invoke(emulator.endpoint, v.variant, job.event)).ms);
        server.get(v.variant)?.push(...reportValues(logs, 'Duration'));
        memory.set(v.variant, Math.max(memory.get(v.variant) ?? 0, ...reportValues(logs, 'Max Memory Used')));
        progress.step(`${job.workload} · ${v.variant}`, perRound);
      }
    }
    const reference = bodies.get(variants[0]?.variant ?? '');
    const cells = variants.map((v): Cell => {
      const latency = summarize(client.get(v.variant) ?? []);
      return {
        variant: v.variant,
        workload: job.workload,
        latency,
        server: summarize(server.get(v.variant) ?? []),
        throughputPerSec: 1000 / latency.mean,
        maxMemoryMb: memory.get(v.variant) ?? 0,
        mismatch: bodies.get(v.variant) !== reference ? true : undefined,
      };
    });
    const stability =
      job.workload === 'echo-1kb' && variants.some((v) => v.variant === 'wasm-raw')
        ? await measureStability(emulator, job.event, job.samples >= 1000 ? 30_000 : 3000, progress)
        : undefined;
    return { cells, stability };
  } finally {
    await emulator.stop();
  }
}

/**
 * The in-process figure of each variant: the handler called directly, with the same event
 * bytes, each run in a pinned child process (`PinnedRunner`). Variants are interleaved in
 * rounds, as the client figures are: the speed of a cloud machine's CPU drifts over seconds
 * (here a 1 MB transform took 13 ms or 21 ms in the same pinned process, switching mid-run),
 * so a variant measured all at once could land in a slow spell its baseline missed.
 */
async function measureInProcess(
  job: Job,
  variants: Prepared[],
  cells: Cell[],
  context: { workspace: string; native: NativeBench; notes: string[]; progress: Progress; pinned: PinnedRunner },
): Promise<void> {
  const perRound = Math.ceil(job.samples / ROUNDS);
  const ms = new Map<VariantName, number[]>();
  // The in-process answers must agree too, as the Invoke API's did, in every round.
  let referenceResponse: string | undefined;
  for (let round = 0; round < ROUNDS; round++) {
    for (const v of variants) {
      const run = await inProcessRun(job, v, perRound, context);
      context.progress.step(`${job.workload} · ${v.variant} in-process`, perRound);
      const target = cells.find((c) => c.variant === v.variant);
      if (!run || !target) continue;
      ms.set(v.variant, [...(ms.get(v.variant) ?? []), ...run.ms]);
      referenceResponse ??= run.response;
      if (run.response !== referenceResponse) target.mismatch = true;
    }
  }
  for (const cell of cells) {
    const times = ms.get(cell.variant);
    if (times) cell.inProcess = summarize(times);
  }
}

/** `samples` in-process calls of one variant in a pinned child; undefined for a variant without the figure. */
async function inProcessRun(
  job: Job,
  v: Prepared,
  samples: number,
  context: { native: NativeBench; notes: string[]; pinned: PinnedRunner },
): Promise<InProcessRun | undefined> {
  const { pinned } = context;
  // Each child warms up afresh: a tenth of its samples, and the Node.js-hosted ones for at
  // least 500 ms besides (`warmUp`), for V8's tiers.
  const warmup = Math.max(3, Math.round(samples / 10));
  const timing = { event: Buffer.from(job.event).toString('base64'), samples, warmup };
  // The guest sees its region and endpoint (never the keys), as on Lambda.
  const env = job.aws ? awsGuestVariables(job.aws) : undefined;
  const outbound = { egress: job.egress, aws: job.aws, env };
  switch (v.variant) {
    case 'wasm-raw':
    case 'wasm-fresh':
      return pinned.run({
        kind: 'wasm',
        path: v.fn.code,
        instanceMode: v.variant === 'wasm-fresh' ? 'fresh' : 'reuse',
        ...outbound,
        ...timing,
      });
    case 'wasm-component':
      return pinned.run({ kind: 'wasm', path: '', componentDir: v.fn.code, ...outbound, ...timing });
    case 'wasm-managed':
      note(
        context.notes,
        "wasm-managed in-process: the same host as wasm-raw (the managed entry adds Node.js's JSON around it); not measured twice",
      );
      return undefined;
    case 'native':
    case 'native-musl': {
      // The in-process binary links the workloads crate and the fetch example, not other handlers.
      if (!context.native.hasInProcess || (job.handler !== BENCH_HANDLER && job.handler !== 'fetch')) return undefined;
      const allocator = v.variant === 'native' && context.native.hasMimalloc(job.handler) ? 'mimalloc' : 'musl';
      const binary = await context.native.inProcess(allocator);
      return nativeInProcess(binary, job.handler, job.event, samples, warmup, (file, args) => pinned.exec(file, args));
    }
    case 'node':
      if (!v.nodeModule || !existsSync(v.nodeModule)) return undefined;
      return pinned.run({ kind: 'node', module: v.nodeModule, env: job.aws, ...timing });
  }
}

async function measureStability(
  emulator: Emulator,
  event: Buffer,
  late: number,
  progress: Progress,
): Promise<Stability> {
  const early = Math.round(late / 30);
  const pool = emulator.pool('wasm-raw');
  let earlyMb = Number.NaN;
  for (let i = 1; i <= late; i++) {
    await invoke(emulator.endpoint, 'wasm-raw', event);
    if (i === early) earlyMb = rssMb(pool?.pids()[0]);
    if (i % 100 === 0) progress.step('RSS stability · wasm-raw', 0);
  }
  const rssLateMb = rssMb(pool?.pids()[0]);
  return {
    variant: 'wasm-raw',
    invocationsEarly: early,
    rssEarlyMb: earlyMb,
    invocationsLate: late,
    rssLateMb,
    growthPercent: ((rssLateMb - earlyMb) / earlyMb) * 100,
  };
}

/**
 * Process start to first response, a fresh emulator (and runtime process) per sample, variants
 * interleaved; and the runtime process's RSS once it has answered and sat idle for a moment.
 */
async function coldStarts(variants: Prepared[], job: Job, progress: Progress): Promise<Cell[]> {
  const results = new Map<string, { ms: number[]; init: number[]; rss: number[]; memory: number; body?: string }>(
    variants.map((v) => [v.variant, { ms: [], init: [], rss: [], memory: 0 }]),
  );
  for (let i = 0; i < job.samples; i++) {
    for (const v of variants) {
      const logs: string[] = [];
      const emulator = await Emulator.start({ functions: [v.fn], logSink: (line) => logs.push(line) });
      try {
        const { ms, body } = await invoke(emulator.endpoint, v.variant, job.event);
        await sleep(200);
        const entry = results.get(v.variant);
        if (entry) {
          entry.ms.push(ms);
          entry.init.push(...reportValues(logs, 'Init Duration'));
          entry.rss.push(rssMb(emulator.pool(v.variant)?.pids()[0]));
          entry.memory = Math.max(entry.memory, ...reportValues(logs, 'Max Memory Used'));
          entry.body ??= body;
        }
      } finally {
        await emulator.stop();
      }
      progress.step(`cold start · ${v.variant}`);
    }
  }
  const reference = results.get(variants[0]?.variant ?? '')?.body;
  return variants.map((v): Cell => {
    const entry = results.get(v.variant) ?? { ms: [], init: [], rss: [], memory: 0 };
    const latency = summarize(entry.ms);
    return {
      variant: v.variant,
      workload: job.workload,
      cold: true,
      latency,
      server: summarize(entry.init),
      throughputPerSec: 1000 / latency.mean,
      maxMemoryMb: entry.memory,
      idleRssMb: summarize(entry.rss.filter((r) => !Number.isNaN(r))).p50,
      initDurationMs: summarize(entry.init).p50,
      mismatch: entry.body !== reference ? true : undefined,
    };
  });
}

/** A bare `node` that starts and exits (`node -e ''`): the floor of any Node.js cold start. */
async function bareNode(samples: number): Promise<Summary> {
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    await new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
      child.once('error', fail);
      child.once('exit', () => done());
    });
    ms.push(performance.now() - started);
  }
  return summarize(ms);
}

/**
 * `wasi-lambda bench` in a project made by `wasi-lambda new`: every handler crate of the
 * workspace on every sample event in `events/` (warm: client, server and in-process wasm
 * figures), and its cold start, as wasm (raw runtime and managed entry) and native. There
 * are no Node.js twins and no targets: those belong to wasi-lambda's own workloads.
 */
async function runProjectBench(
  options: LocalBenchOptions & { workspace: string },
  packages: string[],
  load: [number, number],
): Promise<BenchReport> {
  const eventsDir = resolve(options.workspace, 'events');
  const events = existsSync(eventsDir)
    ? readdirSync(eventsDir)
        .filter((f) => f.endsWith('.json'))
        .sort()
    : [];
  const notes = [
    `project ${basename(options.workspace)}: its handlers (${packages.join(', ')}) on its sample events (events/*.json); no Node.js baseline and no targets (those are wasi-lambda's own workloads)`,
  ];
  if (events.length === 0) notes.push('no events/*.json: only the cold start with an empty event `{}` was measured');
  const variants = options.variants.filter((v) => v !== 'node' && v !== 'native-musl');
  const native = NativeBench.open(options);
  const pinned = PinnedRunner.open();
  notes.push(pinned.note);
  const warmSamples = Math.max(ROUNDS, Math.round(300 * (options.quick ? 0.1 : 1)));
  const coldSamples = options.quick ? 3 : 10;
  const cells: Cell[] = [];
  const progress = new Progress(packages.length * variants.length * (events.length * warmSamples * 2 + coldSamples));
  const context = { workspace: options.workspace, install: options.install ?? true, native, notes };
  for (const handler of packages) {
    for (const file of events) {
      const job: Job = {
        workload: `${handler}: ${file.slice(0, -'.json'.length)}`,
        handler,
        event: readFileSync(join(eventsDir, file)),
        samples: warmSamples,
        environment: {},
      };
      const prepared = await prepareVariants(variants, job, context);
      const measured = await measureWarm(job, prepared, progress);
      cells.push(...measured.cells);
      await measureInProcess(job, prepared, measured.cells, { ...context, progress, pinned });
    }
    const first = events[0];
    const job: Job = {
      workload: `${handler}: cold start`,
      handler,
      event: first ? readFileSync(join(eventsDir, first)) : Buffer.from('{}'),
      samples: coldSamples,
      environment: {},
    };
    const prepared = await prepareVariants(variants, job, context);
    cells.push(...(await coldStarts(prepared, job, progress)));
  }
  progress.finish();
  load[1] = loadavg()[0] ?? 0;
  const report = benchReport('local', options.quick, { cells, notes, load });
  return { ...report, project: basename(options.workspace), targets: [] };
}
