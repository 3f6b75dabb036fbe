/**
 * The worker side of an isolated host: loads the guest on this thread and runs one invocation
 * per message. The main thread keeps the deadline; when it passes, it terminates this thread,
 * which stops even a guest spinning in `loop {}`.
 *
 * Log lines are written to a file descriptor synchronously from here, so every line the guest
 * wrote before a trap, an exit or termination is already in the log, in order, and before the
 * main thread writes the invocation's END line.
 * @module
 */
import { once } from 'node:events';
import { parentPort } from 'node:worker_threads';
import { ComponentHost } from '../component/component-host.js';
import { toError, WasiLambdaError } from '../errors.js';
import { fdSink } from '../logging/fd-sink.js';
import { formatLogLine } from '../logging/log-format.js';
import type { InvokeContext } from './context.js';
import type { FunctionHost } from './function-host.js';
import { sanitize } from './guest-log.js';
import { type BridgeEnd, WorkerOutbound } from './guest-outbound.js';
import { GuestInitError } from './init-error.js';
import type { InvokeOutcome, LambdaErrorBody } from './outcome.js';
import { WasmHost, type WasmHostOptions } from './wasm-host.js';

/**
 * What the main thread hands the worker, as its first message (so that the thread can start
 * while the main thread is still compiling the module): structured-cloneable, no callbacks.
 */
export interface GuestWorkerData {
  guest: { kind: 'core'; module: WebAssembly.Module } | { kind: 'component'; dir: string };
  options: Omit<WasmHostOptions, 'logSink'>;
  /** Where log lines go: 1 on Lambda (CloudWatch reads stdout), 2 for the CLI. */
  logFd: number;
  /** The guest's outbound HTTP, bridged to the main thread; unset: refused (`Unsupported`). */
  http?: BridgeEnd | undefined;
}

export interface InvokeRequest {
  id: number;
  event: Uint8Array;
  ctx: InvokeContext;
}

export type WorkerMessage =
  | { type: 'ready'; instanceCount: number }
  | { type: 'init-error'; code: string; message: string; body?: LambdaErrorBody | undefined }
  | { type: 'outcome'; id: number; outcome: InvokeOutcome; instanceCount: number };

/** The invocation running on this thread, for the log lines the host writes itself. */
let currentRequestId: string | undefined;

async function load(data: GuestWorkerData): Promise<FunctionHost> {
  const sink = fdSink(data.logFd);
  const format = data.options.logFormat ?? 'text';
  // A refused destination is logged under the invocation, so whoever reads the log learns
  // what to grant even when the handler swallows the error.
  const outbound = data.http
    ? new WorkerOutbound(data.http, (message) =>
        sink(formatLogLine(format, 'WARN', currentRequestId, sanitize(`outbound HTTP refused: ${message}`))),
      )
    : undefined;
  const options: WasmHostOptions = { ...data.options, logSink: sink, outbound };
  if (data.guest.kind === 'component') return ComponentHost.fromDir(data.guest.dir, options);
  return WasmHost.create(data.guest.module, options);
}

async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('guest-worker.mjs runs as a worker thread only');
  const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  let host: FunctionHost;
  try {
    const [data] = (await once(port, 'message')) as [GuestWorkerData];
    host = await load(data);
  } catch (err) {
    const code = err instanceof WasiLambdaError ? err.code : 'GUEST_INIT_FAILED';
    const body = err instanceof GuestInitError ? err.body : undefined;
    post({ type: 'init-error', code, message: toError(err).message, body });
    return;
  }
  post({ type: 'ready', instanceCount: host.instanceCount });
  port.on('message', async (request: InvokeRequest) => {
    currentRequestId = request.ctx.requestId;
    const outcome = await host.invoke(request.event, request.ctx);
    currentRequestId = undefined;
    // Hand the response's bytes over rather than copying them, when they own their buffer.
    const bytes = outcome.status === 'ok' ? outcome.response : undefined;
    const owned = bytes !== undefined && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const transfer = owned ? [bytes.buffer as ArrayBuffer] : [];
    post({ type: 'outcome', id: request.id, outcome, instanceCount: host.instanceCount }, transfer);
    // `fresh` mode (or a replaced instance): instantiate the next one while the function is
    // idle rather than at the start of the next invocation. A failure here is not lost: the
    // next invocation instantiates again and reports it.
    if (host instanceof WasmHost) {
      setImmediate(() => {
        try {
          host.prepare();
        } catch {}
      });
    }
  });
}

await main();
