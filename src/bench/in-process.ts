import { existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AwsConfig } from '../aws/aws-config.js';
import { WasiLambdaError } from '../errors.js';
import { compileGuest } from '../host/compile.js';
import type { InvokeContext } from '../host/context.js';
import type { FunctionHost } from '../host/function-host.js';
import { loadHost } from '../host/load-host.js';
import { WasmHost } from '../host/wasm-host.js';
import type { EgressPolicy } from '../outbound/egress-policy.js';

/** Sequential in-process invocations: each one's time in ms, and the last response's text. */
export interface InProcessRun {
  ms: number[];
  response: string;
}

const decoder = new TextDecoder();

/** A context as the runtime clients build one; the deadline is far away. */
export function benchContext(name: string): InvokeContext {
  return {
    requestId: 'bench',
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitMb: 1024,
    deadlineMs: Date.now() + 60_000,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'bench',
  };
}

/** Warm-up before timing: at least `count` calls and at least this long, so the JIT's tiers are reached. */
const WARMUP_MS = 500;

async function warmUp(call: () => Promise<unknown>, count: number): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < count || performance.now() - started < WARMUP_MS; i++) await call();
}

async function timeHost(host: FunctionHost, event: Uint8Array, samples: number, warmup: number): Promise<InProcessRun> {
  const ctx = benchContext('bench');
  const call = async () => {
    const outcome = await host.invoke(event, ctx);
    if (outcome.status !== 'ok') {
      throw new WasiLambdaError('INVALID_INPUT', `in-process invocation failed: ${JSON.stringify(outcome.error)}`);
    }
    return outcome.response;
  };
  await warmUp(call, warmup);
  const ms: number[] = [];
  let response: Uint8Array = new Uint8Array();
  for (let i = 0; i < samples; i++) {
    // As the raw runtime does between invocations (after the response, before `/next`).
    host.prepare?.();
    const started = performance.now();
    response = await call();
    ms.push(performance.now() - started);
  }
  return { ms, response: decoder.decode(response) };
}

/**
 * The guest worker's bundle: beside the calling bundle when the bench runs from `dist/` (the
 * host's default), the built one when it runs from the sources (the test suite).
 */
function guestWorkerUrl(): URL | undefined {
  if (existsSync(new URL('./guest-worker.mjs', import.meta.url))) return undefined;
  const built = new URL('../../dist/guest-worker.mjs', import.meta.url);
  return existsSync(built) ? built : undefined;
}

/** What one wasm variant runs in-process: the module, and how the host holds it. */
export interface WasmInProcess {
  path: string;
  /** `reuse` (the default) or `fresh` instances; the host runs inline, on this thread. */
  instanceMode?: 'reuse' | 'fresh' | undefined;
  /** The component's directory instead of the core module. */
  componentDir?: string | undefined;
  /** Outbound calls need the worker isolation (an inline guest cannot block for them). */
  allowHosts?: EgressPolicy | undefined;
  /** AWS calls the host signs (`awsConfig`): also on a worker. */
  aws?: AwsConfig | undefined;
  /** The guest's environment (for `aws`: its region and endpoint, `awsGuestVariables`). */
  env?: Readonly<Record<string, string>> | undefined;
}

/**
 * The wasm host called directly: the same host the runtime clients run, inline on this thread
 * (no worker hop) unless the guest makes outbound calls, which only a worker-isolated host can
 * serve.
 */
export async function wasmInProcess(
  spec: WasmInProcess,
  event: Uint8Array,
  samples: number,
  warmup: number,
): Promise<InProcessRun> {
  const quiet = () => {};
  const outbound = spec.allowHosts !== undefined || spec.aws !== undefined;
  const host = await loadHost({
    guest: spec.componentDir ? { kind: 'component', dir: spec.componentDir } : { kind: 'core', path: spec.path },
    options: { instanceMode: spec.instanceMode, env: spec.env },
    isolation: outbound ? 'worker' : 'inline',
    logSink: quiet,
    logFd: outbound ? openSync('/dev/null', 'w') : undefined,
    allowHosts: spec.allowHosts,
    aws: spec.aws,
    workerUrl: outbound ? guestWorkerUrl() : undefined,
  });
  try {
    return await timeHost(host, event, samples, warmup);
  } finally {
    await host.close?.();
  }
}

/**
 * The host's own cost per invocation, in-process: a warm inline invocation, less the time
 * spent inside the guest's `handle` export (measured on a second host whose `handle` export
 * is wrapped with a timer, so the timer's cost is in neither figure). What remains is the
 * host's work: lowering the event and context into guest memory (`cabi_realloc` calls
 * included), lifting and copying the response, the log bracket, the outcome.
 */
export async function hostCost(
  path: string,
  event: Uint8Array,
  samples: number,
  warmup: number,
): Promise<{ invokeUs: number; guestUs: number; costUs: number }> {
  const quiet = { logSink: () => {} };
  const plain = await WasmHost.create(await readModule(path), quiet);
  let inside = 0;
  const Original = WebAssembly.Instance;
  class TimedInstance extends Original {
    constructor(module: WebAssembly.Module, imports?: WebAssembly.Imports) {
      super(module, imports);
      const exports = { ...super.exports } as Record<string, WebAssembly.ExportValue>;
      const handle = exports.handle as (args: number) => number;
      exports.handle = (args: number) => {
        const started = performance.now();
        try {
          return handle(args);
        } finally {
          inside += performance.now() - started;
        }
      };
      Object.defineProperty(this, 'exports', { value: Object.freeze(exports) });
    }
  }
  WebAssembly.Instance = TimedInstance;
  let timed: WasmHost;
  try {
    timed = await WasmHost.create(await readModule(path), quiet);
  } finally {
    WebAssembly.Instance = Original;
  }
  const ctx = benchContext('bench');
  const invokeMs: number[] = [];
  const guestMs: number[] = [];
  // Interleaved, so drift on a shared machine hits both figures alike.
  for (let i = 0; i < warmup + samples; i++) {
    const started = performance.now();
    plain.invoke(event, ctx);
    const elapsed = performance.now() - started;
    inside = 0;
    timed.invoke(event, ctx);
    if (i >= warmup) {
      invokeMs.push(elapsed);
      guestMs.push(inside);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const invokeUs = median(invokeMs) * 1000;
  const guestUs = median(guestMs) * 1000;
  return { invokeUs, guestUs, costUs: invokeUs - guestUs };
}

/** Compiled as every host compiles a guest (with the module limits applied). */
async function readModule(path: string): Promise<WebAssembly.Module> {
  return compileGuest(await readFile(path), undefined);
}

/**
 * The native in-process binary (`wasm-handlers/bench/inprocess`) on `handler` with the event,
 * started by `exec` (`PinnedRunner.exec` pins it).
 */
export async function nativeInProcess(
  binary: string,
  handler: string,
  event: Uint8Array,
  samples: number,
  warmup: number,
  exec: (file: string, args: readonly string[]) => Promise<string>,
): Promise<InProcessRun> {
  const dir = mkdtempSync(join(tmpdir(), 'wasi-lambda-bench-'));
  try {
    const file = join(dir, 'event.json');
    writeFileSync(file, event);
    const stdout = await exec(binary, [handler, file, String(samples), String(warmup)]);
    const report = JSON.parse(stdout) as { response: string; nanos: number[] };
    return { ms: report.nanos.map((n) => n / 1e6), response: report.response };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The Node.js twin called directly, bytes in and bytes out as its runtime client does it:
 * `JSON.parse` of the event's text, the handler, `JSON.stringify` of its answer. `env` is the
 * function's environment: for the run it replaces every `AWS_*` variable of this process (the
 * twin's SDK must see the bench's endpoint and keys, not the caller's profile or session
 * token), and the process's own are restored after it. The module, and an SDK client it
 * builds at load, keep what they read, so `PinnedRunner` runs each twin in a process of its own.
 *
 * ```ts
 * const run = await nodeInProcess('baselines/node/hello.mjs', bytes, 300, 30, {});
 * ```
 */
export async function nodeInProcess(
  modulePath: string,
  event: Uint8Array,
  samples: number,
  warmup: number,
  env: Readonly<Record<string, string>> = {},
): Promise<InProcessRun> {
  const replaced = [...Object.keys(process.env).filter((name) => name.startsWith('AWS_')), ...Object.keys(env)];
  const saved = Object.fromEntries(replaced.map((name) => [name, process.env[name]]));
  for (const name of replaced) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return await timeNodeHandler(modulePath, event, samples, warmup);
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function timeNodeHandler(
  modulePath: string,
  event: Uint8Array,
  samples: number,
  warmup: number,
): Promise<InProcessRun> {
  const module = (await import(pathToFileURL(modulePath).href)) as {
    handler: (event: unknown, context: unknown) => Promise<unknown>;
  };
  const context = benchContext('bench');
  const call = async () => JSON.stringify(await module.handler(JSON.parse(decoder.decode(event)), context));
  await warmUp(call, warmup);
  const ms: number[] = [];
  let response = '';
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    response = await call();
    ms.push(performance.now() - started);
  }
  return { ms, response };
}
