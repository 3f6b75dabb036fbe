import { performance } from 'node:perf_hooks';
import { type BuildOptions, buildHandlers } from '../build/build-handlers.js';
import { buildComponents } from '../component/build-components.js';
import { ComponentHost } from '../component/component-host.js';
import { WasiLambdaError } from '../errors.js';
import { guestMemoryPages } from '../host/memory-limit.js';
import type { WasiKind } from '../host/wasi/index.js';
import { type InvokeOutcome, WasmHost } from '../host/wasm-host.js';
import type { Backend } from '../lambda/host-config.js';
import type { LogFormat } from '../logging/log-format.js';
import { endLine, maxMemoryUsedMb, reportLine, startLine } from '../logging/report.js';
import { LOCAL_DEFAULTS, type LocalFunctionConfig, localContext } from './local-context.js';

export interface InvokeLocalOptions {
  /** A handler package name from the workspace (`hello`) or a path to a `.wasm` file. */
  handler: string;
  /** The raw event bytes, passed to the guest untouched. */
  event: Uint8Array;
  workspace?: string | undefined;
  wasi?: WasiKind | undefined;
  logFormat?: LogFormat | undefined;
  env?: Readonly<Record<string, string>> | undefined;
  config?: Partial<LocalFunctionConfig> | undefined;
  /** Where log and START/END/REPORT lines go; defaults to stderr. */
  logSink?: ((line: string) => void) | undefined;
  build?: Omit<BuildOptions, 'workspace'> | undefined;
  /** Run the core module (default) or the component built from it. */
  backend?: Backend | undefined;
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
  const sink = options.logSink ?? ((line: string) => process.stderr.write(line));
  const component = options.backend === 'component';
  const path = component
    ? (await buildComponents({ ...options.build, workspace: options.workspace })).components[options.handler]?.dir
    : await resolveHandler(options.handler, options.workspace, options.build);
  if (path === undefined) {
    throw new WasiLambdaError('HANDLER_NOT_FOUND', `no component build of "${options.handler}"`);
  }
  const functionName = options.config?.functionName ?? options.handler.replace(/^.*\/|\.wasm$/g, '');
  const config: LocalFunctionConfig = { ...LOCAL_DEFAULTS, ...options.config, functionName };

  const initStart = performance.now();
  const hostOptions = {
    wasi: options.wasi,
    env: options.env,
    programName: functionName,
    logFormat: options.logFormat,
    logSink: sink,
    maxMemoryPages: guestMemoryPages(config.memoryMb),
  };
  const host = component ? await ComponentHost.fromDir(path, hostOptions) : await WasmHost.fromFile(path, hostOptions);
  const initDurationMs = performance.now() - initStart;

  const ctx = localContext(config);
  sink(startLine(ctx.requestId, ctx.functionVersion));
  const start = performance.now();
  const outcome = host.invoke(options.event, ctx);
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
}
