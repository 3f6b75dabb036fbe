import { performance } from 'node:perf_hooks';
import type { AwsConfig } from '../aws/aws-config.js';
import { type BuildOptions, buildHandlers } from '../build/build-handlers.js';
import { buildComponents } from '../component/build-components.js';
import { WasiLambdaError } from '../errors.js';
import { identityOf } from '../host/context.js';
import { type HostConfig, type Isolation, loadHost } from '../host/load-host.js';
import { guestMemoryPages } from '../host/memory-limit.js';
import type { InvokeOutcome, TmpGrant } from '../host/wasm-host.js';
import type { Backend } from '../lambda/host-config.js';
import { fdSink } from '../logging/fd-sink.js';
import type { LogFormat } from '../logging/log-format.js';
import { endLine, maxMemoryUsedMb, reportLine, startLine } from '../logging/report.js';
import { type EgressPolicy, parseEgressPolicy } from '../outbound/egress-policy.js';
import { LOCAL_DEFAULTS, type LocalFunctionConfig, localContext } from './local-context.js';

export interface InvokeLocalOptions {
  /** A handler package name from the workspace (`hello`) or a path to a `.wasm` file. */
  handler: string;
  /** The raw event bytes, passed to the guest untouched. */
  event: Uint8Array;
  workspace?: string | undefined;
  logFormat?: LogFormat | undefined;
  env?: Readonly<Record<string, string>> | undefined;
  config?: Partial<LocalFunctionConfig> | undefined;
  /**
   * Where log and START/END/REPORT lines go, as a function; the guest then runs inline (a
   * function cannot cross into a worker thread). Default: written to `logFd` synchronously.
   */
  logSink?: ((line: string) => void) | undefined;
  /** The file descriptor log lines are written to when no `logSink` is given (default 2, stderr). */
  logFd?: number | undefined;
  /** `worker` (default without a `logSink`): the deadline (`config.timeoutSeconds`) stops the guest. */
  isolation?: Isolation | undefined;
  /** A writable in-memory `/tmp` for the guest. */
  tmp?: TmpGrant | undefined;
  /** The worker bundle, when not `guest-worker.mjs` beside this bundle. */
  workerUrl?: URL | string | undefined;
  build?: Omit<BuildOptions, 'workspace'> | undefined;
  /** Run the core module (default) or the component built from it. */
  backend?: Backend | undefined;
  /** Egress grants (`WASI_LAMBDA_ALLOW_HOSTS` entries); default: none. */
  /** AWS services the guest may call, signed by the host with these credentials (`awsConfig`). */
  aws?: AwsConfig | undefined;
  allowHosts?: readonly string[] | undefined;
}

export interface InvokeLocalResult {
  outcome: InvokeOutcome;
  requestId: string;
  /** Compile + instantiate, in ms (Lambda's Init Duration). */
  initDurationMs: number;
  durationMs: number;
}

/** Resolves a handler name to a built module, building the workspace if needed. */
export async function resolveHandler(handler: string, workspace?: string, build?: BuildOptions): Promise<string> {
  if (handler.endsWith('.wasm')) return handler;
  const { handlers } = await buildHandlers({ ...build, workspace });
  const path = handlers[handler];
  if (path === undefined) {
    const known = Object.keys(handlers).sort().join(', ') || 'none';
    throw new WasiLambdaError(
      'HANDLER_NOT_FOUND',
      `no handler package named "${handler}" in the workspace (built: ${known}); pass a package name or a .wasm path`,
    );
  }
  return path;
}

/**
 * Invokes a handler once, the way Lambda would: cold start, START line, the invocation with
 * its logs, END and REPORT lines.
 *
 * ```ts
 * const { outcome } = await invokeLocal({ handler: 'hello', event: Buffer.from('{"name":"Ada"}') });
 * ```
 */
export async function invokeLocal(options: InvokeLocalOptions): Promise<InvokeLocalResult> {
  // Checked first: a malformed grant should not wait for a build to be reported.
  const allowHosts = parseEgressPolicy(options.allowHosts ?? [], '--allow-host');
  // A caller's own sink is a function, which cannot cross into a worker: it runs inline.
  const isolation: Isolation = options.isolation ?? (options.logSink ? 'inline' : 'worker');
  const logFd = options.logFd ?? 2;
  const sink = options.logSink ?? fdSink(logFd);
  const component = options.backend === 'component';
  const path = component
    ? (await buildComponents({ ...options.build, workspace: options.workspace })).components[options.handler]?.dir
    : await resolveHandler(options.handler, options.workspace, options.build);
  if (path === undefined) {
    throw new WasiLambdaError('HANDLER_NOT_FOUND', `no component build of "${options.handler}"`);
  }
  const functionName = options.config?.functionName ?? options.handler.replace(/^.*\/|\.wasm$/g, '');
  const config: LocalFunctionConfig = { ...LOCAL_DEFAULTS, ...options.config, functionName };

  // One identity for the host and the invocation (a local context draws a random log stream).
  const identity = identityOf(localContext(config));
  const initStart = performance.now();
  const hostConfig: HostConfig & { allowHosts: EgressPolicy } = {
    guest: component ? { kind: 'component', dir: path } : { kind: 'core', path },
    options: {
      identity,
      env: options.env,
      programName: functionName,
      logFormat: options.logFormat,
      maxMemoryPages: guestMemoryPages(config.memoryMb),
      tmp: options.tmp,
    },
    isolation,
    logFd,
    logSink: sink,
    workerUrl: options.workerUrl,
    allowHosts,
    aws: options.aws,
  };
  const host = await loadHost(hostConfig);
  const initDurationMs = performance.now() - initStart;

  try {
    const ctx = { ...localContext(config), ...identity };
    sink(startLine(ctx.requestId, ctx.functionVersion));
    const start = performance.now();
    const outcome = await host.invoke(options.event, ctx);
    const durationMs = performance.now() - start;
    sink(endLine(ctx.requestId));
    sink(
      reportLine({
        requestId: ctx.requestId,
        durationMs,
        memorySizeMb: config.memoryMb,
        maxMemoryUsedMb: maxMemoryUsedMb(),
        initDurationMs,
      }),
    );
    return { outcome, requestId: ctx.requestId, initDurationMs, durationMs };
  } finally {
    await host.close?.();
  }
}
