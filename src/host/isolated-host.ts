import { Worker } from 'node:worker_threads';
import { WasiLambdaError } from '../errors.js';
import type { InvokeContext } from './context.js';
import type { FunctionHost } from './function-host.js';
import type { GuestWorkerData, InvokeRequest, WorkerMessage } from './guest-worker.js';
import type { BridgeLink, HttpBridge } from './http-bridge.js';
import { GuestInitError } from './init-error.js';
import type { InvokeOutcome } from './outcome.js';
import { timeoutError } from './timeout.js';

/** Where the worker bundle sits next to each bundle that uses it (`dist/`, `dist/lambda/`, …). */
const DEFAULT_WORKER_URL = new URL('./guest-worker.mjs', import.meta.url);

export interface IsolatedHostOptions {
  /**
   * What the worker loads and how; see `GuestWorkerData`. A promise lets the worker thread
   * start while the module is still compiling: the two overlap at init.
   */
  data: GuestWorkerData | Promise<GuestWorkerData>;
  /** The worker bundle; defaults to `guest-worker.mjs` beside the calling bundle. */
  workerUrl?: URL | string | undefined;
  /** Performs the guest's outbound HTTP on this thread; unset, the guest's requests are refused. */
  http?: HttpBridge | undefined;
}

interface Pending {
  id: number;
  resolve: (outcome: InvokeOutcome) => void;
  timer: NodeJS.Timeout;
  requestId: string;
  /** How long the invocation was given, for the timeout message. */
  givenMs: number;
}

interface LiveWorker {
  worker: Worker;
  /** This worker's connection to the HTTP bridge, closed when the worker goes. */
  http: BridgeLink | undefined;
  /** Instances the worker has created, as of its last message. */
  instances: number;
}

/**
 * Runs the guest on a worker thread, so that the deadline holds in-process: when an invocation's
 * deadline passes, the worker is terminated (stopping even a guest that never returns to the
 * host, which no WASI call could interrupt) and the invocation fails with Lambda's
 * `Sandbox.Timedout`; the next invocation starts a new worker, as Lambda re-initialises an
 * environment after a timeout. The host's own thread stays free while the guest runs.
 *
 * ```ts
 * const host = await IsolatedHost.create({ data: { guest: { kind: 'core', module }, options: {}, logFd: 1 } });
 * const outcome = await host.invoke(eventBytes, ctx);
 * await host.close();
 * ```
 */
export class IsolatedHost implements FunctionHost {
  readonly #data: Promise<GuestWorkerData>;
  readonly #workerUrl: URL | string;
  readonly #http: HttpBridge | undefined;
  #live: LiveWorker | undefined;
  #pending: Pending | undefined;
  #nextId = 1;
  /** Instances of workers already gone (timed out or crashed). */
  #retiredInstances = 0;
  #closed = false;

  private constructor(options: IsolatedHostOptions) {
    this.#data = Promise.resolve(options.data);
    this.#workerUrl = options.workerUrl ?? DEFAULT_WORKER_URL;
    this.#http = options.http;
  }

  /** Starts the worker and waits for its init (Lambda's init phase); an init failure rejects. */
  static async create(options: IsolatedHostOptions): Promise<IsolatedHost> {
    const host = new IsolatedHost(options);
    host.#live = await host.#start();
    return host;
  }

  get instanceCount(): number {
    return this.#retiredInstances + (this.#live?.instances ?? 0);
  }

  async invoke(event: Uint8Array, ctx: InvokeContext): Promise<InvokeOutcome> {
    if (this.#closed) throw new WasiLambdaError('INVALID_INPUT', 'the host was closed; load it again');
    if (this.#pending) {
      throw new WasiLambdaError('INVALID_INPUT', 'one invocation at a time: await the previous invoke first');
    }
    this.#live ??= await this.#start();
    const live = this.#live;
    const id = this.#nextId++;
    const givenMs = Math.max(0, ctx.deadlineMs - Date.now());
    return new Promise<InvokeOutcome>((resolve) => {
      const timer = setTimeout(() => this.#timeOut(live), givenMs);
      this.#pending = { id, resolve, timer, requestId: ctx.requestId, givenMs };
      const request: InvokeRequest = { id, event, ctx };
      live.worker.ref();
      live.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const live = this.#live;
    this.#live = undefined;
    if (live) {
      live.http?.close();
      await live.worker.terminate();
    }
  }

  #start(): Promise<LiveWorker> {
    const worker = new Worker(this.#workerUrl, {
      // The guest thread needs nothing from the host's environment, least of all credentials.
      env: {},
      // Not the host's flags (`--input-type`, `-e`, inspector options): the worker is a plain module.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    const http = this.#http?.link();
    const live: LiveWorker = { worker, http, instances: 0 };
    return new Promise<LiveWorker>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          ready = true;
          live.instances = message.instanceCount;
          // An idle worker must not keep a CLI process alive. (Only after the listeners are
          // attached: attaching a 'message' listener refs the worker's port again.)
          worker.unref();
          resolve(live);
        } else if (message.type === 'init-error') {
          void worker.terminate();
          reject(
            message.body
              ? new GuestInitError(message.body)
              : new WasiLambdaError(message.code as WasiLambdaError['code'], message.message),
          );
        } else {
          live.instances = message.instanceCount;
          this.#settle(message.id, message.outcome);
        }
      });
      worker.on('error', (err) => {
        if (!ready) reject(new WasiLambdaError('GUEST_INIT_FAILED', `the guest worker failed: ${err.message}`));
      });
      this.#data.then(
        (data) => (http ? worker.postMessage({ ...data, http: http.end }, [http.end.port]) : worker.postMessage(data)),
        (err: unknown) => {
          http?.close();
          void worker.terminate();
          reject(err);
        },
      );
      worker.on('exit', (code) => {
        http?.close();
        if (!ready) {
          reject(new WasiLambdaError('GUEST_INIT_FAILED', `the guest worker exited with code ${code} during init`));
          return;
        }
        this.#lost(live, code);
      });
    });
  }

  #settle(id: number, outcome: InvokeOutcome): void {
    const pending = this.#pending;
    if (!pending || pending.id !== id) return;
    clearTimeout(pending.timer);
    this.#pending = undefined;
    this.#live?.worker.unref();
    pending.resolve(outcome);
  }

  #timeOut(live: LiveWorker): void {
    const pending = this.#pending;
    if (!pending) return;
    this.#retire(live);
    this.#pending = undefined;
    // Terminating is asynchronous; the caller hears of the timeout at once, and the next
    // invocation starts a new worker.
    void live.worker.terminate();
    pending.resolve({
      status: 'error',
      kind: 'runtime',
      error: timeoutError(pending.requestId, pending.givenMs),
    });
  }

  /** The worker died outside a timeout (V8 out of memory, a crash): the invocation fails. */
  #lost(live: LiveWorker, code: number): void {
    if (this.#live !== live) return;
    this.#retire(live);
    const pending = this.#pending;
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending = undefined;
    pending.resolve({
      status: 'error',
      kind: 'runtime',
      error: {
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${pending.requestId} Error: Runtime exited with error: exit status ${code}`,
      },
    });
  }

  #retire(live: LiveWorker): void {
    // Responses still in flight for this worker are dropped, whatever else happens.
    live.http?.close();
    if (this.#live !== live) return;
    this.#retiredInstances += live.instances;
    this.#live = undefined;
  }
}
