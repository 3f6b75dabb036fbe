import { readFileSync } from 'node:fs';
import { toError, WasiLambdaError } from '../errors.js';
import { fdSink } from '../logging/fd-sink.js';
import type { LogFormat } from '../logging/log-format.js';
import { MemoryFilesystem } from '../wasi/memfs.js';
import { Preview1 } from '../wasi/preview1.js';
import { DeadlineExceeded } from '../wasi/sleep.js';
import { callHandle, callInit, checkContract, type HandlerExports, type InitResult } from './abi.js';
import { compileGuest } from './compile.js';
import { type FunctionIdentity, functionIdentity, type InvokeContext, identityOf } from './context.js';
import { ENVIRONMENT_IMPORT_MODULE, environmentImports } from './environment-import.js';
import type { FunctionHost } from './function-host.js';
import { GuestLog } from './guest-log.js';
import { GuestMemory } from './guest-memory.js';
import { type GuestOutbound, unsupportedOutbound } from './guest-outbound.js';
import { HTTP_IMPORT_MODULE, httpImports, type ImportBinding } from './http-import.js';
import { GuestInitError } from './init-error.js';
import { INIT_TIMEOUT_MS } from './lambda-limits.js';
import { type InvokeOutcome, runtimeError } from './outcome.js';
import { timeoutError } from './timeout.js';

export type { InvokeOutcome, LambdaErrorBody } from './outcome.js';

/** A writable, in-memory `/tmp` for the guest, with Lambda's ephemeral storage as its quota. */
export interface TmpGrant {
  /** Bytes of file contents at most; over it the guest's write fails with `ENOSPC`. */
  maxBytes: number;
  /** Files and directories at most. */
  maxFiles?: number | undefined;
}

export interface WasmHostOptions {
  /**
   * What the guest's `environment.identity` answers: the function's name, version, memory and
   * log group and stream, the same for every invocation. On Lambda the entries read it from
   * the environment (`functionIdentity`). Unset: taken from the first invocation's context,
   * and a guest that asks before any invocation gets `functionIdentity({})`'s defaults.
   */
  identity?: FunctionIdentity | undefined;
  /** The guest's entire environment. Nothing from the host's leaks in. */
  env?: Readonly<Record<string, string>> | undefined;
  /** `argv[0]` the guest sees; defaults to the function name. */
  programName?: string | undefined;
  logFormat?: LogFormat | undefined;
  /**
   * Where formatted log lines go, synchronously: CloudWatch reads the process's stdout.
   * Default: written to fd 1 before the guest's `fd_write` returns (see `fdSink`).
   */
  logSink?: ((line: string) => void) | undefined;
  /**
   * The most linear memory the guest may grow to, in 64 KiB pages; see `guestMemoryPages`
   * for the share of a function's memory size. Unset: the module's own limit.
   */
  maxMemoryPages?: number | undefined;
  /**
   * `reuse` (default) keeps one instance warm across invocations, as Lambda keeps an
   * execution environment. `fresh` runs every invocation on a new instance: new memory,
   * globals, tables and WASI state (descriptors, `/tmp`), initialised as at init.
   */
  instanceMode?: InstanceMode | undefined;
  /** Grant a writable in-memory `/tmp`. Default: none; the guest has no filesystem at all. */
  tmp?: TmpGrant | undefined;
  /**
   * Performs the guest's outbound HTTP (`wasi-lambda:handler/http`); set by the guest worker,
   * which bridges it to the main thread. Unset: every request fails with `Unsupported`.
   */
  outbound?: GuestOutbound | undefined;
}

/** How guest state carries over between invocations. */
export type InstanceMode = 'reuse' | 'fresh';

interface LiveInstance {
  exports: HandlerExports;
  memory: GuestMemory;
}

/**
 * Runs a handler module on the calling thread: compiled once, instantiated with wasi-lambda's
 * own WASI layer (`src/wasi/`: no host file, descriptor, signal or socket reachable), invoked
 * with the raw event bytes and the Lambda context through linear memory.
 *
 * ```ts
 * const host = await WasmHost.fromFile('hello.wasm', { env: { STAGE: 'dev' } });
 * const outcome = host.invoke(new TextEncoder().encode('{"name":"Ada"}'), context);
 * if (outcome.status === 'ok') console.log(new TextDecoder().decode(outcome.response));
 * ```
 */
export class WasmHost implements FunctionHost {
  readonly #module: WebAssembly.Module;
  readonly #env: Readonly<Record<string, string>>;
  readonly #args: readonly string[];
  readonly #maxMemoryPages: number | undefined;
  readonly #fresh: boolean;
  readonly #tmp: TmpGrant | undefined;
  readonly #log: GuestLog;
  readonly #outbound: GuestOutbound;
  #identity: FunctionIdentity | undefined;
  #instance: LiveInstance | undefined;
  #instances = 0;
  /** The current invocation's deadline, which bounds every sleep the guest asks for. */
  #deadline: number | undefined;

  private constructor(module: WebAssembly.Module, options: WasmHostOptions) {
    this.#module = module;
    this.#env = options.env ?? {};
    this.#args = [options.programName ?? 'handler'];
    this.#maxMemoryPages = options.maxMemoryPages;
    this.#fresh = options.instanceMode === 'fresh';
    this.#tmp = options.tmp;
    this.#outbound = options.outbound ?? unsupportedOutbound;
    this.#identity = options.identity;
    this.#log = new GuestLog(options.logFormat ?? 'text', options.logSink ?? fdSink(1));
  }

  /** Compiles `bytes` and prepares the first instance (Lambda's init phase). */
  static async create(
    bytes: Uint8Array<ArrayBuffer> | WebAssembly.Module,
    options: WasmHostOptions = {},
  ): Promise<WasmHost> {
    const module = bytes instanceof WebAssembly.Module ? bytes : await compileGuest(bytes, options.maxMemoryPages);
    checkContract(module);
    const host = new WasmHost(module, options);
    host.prepare();
    return host;
  }

  static async fromFile(path: string, options: WasmHostOptions = {}): Promise<WasmHost> {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new WasiLambdaError('HANDLER_NOT_FOUND', `cannot read ${path}: ${toError(err).message}`, { cause: err });
    }
    return WasmHost.create(bytes, options);
  }

  /** How many instances were created so far: 1 plus one per replaced instance. */
  get instanceCount(): number {
    return this.#instances;
  }

  /**
   * Makes sure an initialised instance is waiting for the next invocation, so that `fresh`
   * mode can pay for instantiation between invocations rather than during one. A trap during
   * initialisation is a `GUEST_INIT_FAILED` error.
   */
  prepare(): void {
    this.#instance ??= this.#instantiate();
  }

  /**
   * Runs one invocation. Never throws for guest misbehaviour: a trap, `proc_exit` or ABI
   * violation becomes a `runtime` error outcome and the instance is replaced; a sleep past
   * the deadline is Lambda's timeout.
   */
  invoke(event: Uint8Array, ctx: InvokeContext): InvokeOutcome {
    this.#log.begin(ctx.requestId);
    this.#deadline = ctx.deadlineMs;
    // Passed once: a guest keeps the identity it was given for the life of its instance.
    this.#identity ??= identityOf(ctx);
    const started = Date.now();
    try {
      const live = this.#instance ?? this.#instantiate();
      this.#instance = live;
      const result = callHandle(live.exports, live.memory, event, ctx);
      if (this.#fresh) this.#instance = undefined;
      if (result.ok) return { status: 'ok', response: result.body };
      return {
        status: 'error',
        kind: 'handler',
        error: { errorType: result.errorType, errorMessage: result.errorMessage },
      };
    } catch (err) {
      this.#instance = undefined;
      if (err instanceof DeadlineExceeded) {
        return { status: 'error', kind: 'runtime', error: timeoutError(ctx.requestId, ctx.deadlineMs - started) };
      }
      const error = runtimeError(err, {
        requestId: ctx.requestId,
        log: this.#log,
        maxMemoryPages: this.#maxMemoryPages,
      });
      return { status: 'error', kind: 'runtime', error };
    } finally {
      this.#outbound.abandonAll();
      this.#deadline = undefined;
      this.#log.end();
    }
  }

  /** A new instance with new WASI state: nothing of an earlier instance is reachable from it. */
  #instantiate(): LiveInstance {
    const tmp = this.#tmp
      ? new MemoryFilesystem({
          maxBytes: this.#tmp.maxBytes,
          ...(this.#tmp.maxFiles ? { maxFiles: this.#tmp.maxFiles } : {}),
        })
      : undefined;
    const wasi = new Preview1({
      args: this.#args,
      env: this.#env,
      output: (stream, bytes) => this.#log.write(stream, bytes),
      preopens: tmp ? { '/tmp': tmp.root } : {},
      deadline: () => this.#deadline,
    });
    let binding: ImportBinding | undefined;
    const bound = (): ImportBinding => {
      if (binding === undefined) {
        throw new WasiLambdaError('GUEST_ABI_VIOLATION', 'a wasi-lambda import was called during start');
      }
      return binding;
    };
    const http = httpImports(bound, this.#outbound, () => this.#deadline ?? Date.now());
    // Asked before any invocation (a `main` that reads it at init) and with none configured:
    // Lambda's defaults, as `functionIdentity` reads an empty environment.
    const environment = environmentImports(bound, () => this.#identity ?? functionIdentity({}));
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.#module, {
        wasi_snapshot_preview1: wasi.imports,
        [ENVIRONMENT_IMPORT_MODULE]: environment,
        [HTTP_IMPORT_MODULE]: http,
      });
    } catch (err) {
      throw new WasiLambdaError('MODULE_INVALID', `cannot instantiate the module: ${toError(err).message}`, {
        cause: err,
      });
    }
    const exports = instance.exports as unknown as HandlerExports;
    wasi.bind(exports.memory);
    const memory = new GuestMemory(exports.memory);
    binding = { memory, realloc: exports.cabi_realloc };
    // Init runs outside any invocation: its log lines carry no request id, as on Lambda, and
    // its sleeps are bounded by Lambda's 10-second init phase.
    const outside = this.#deadline === undefined;
    if (outside) this.#deadline = Date.now() + INIT_TIMEOUT_MS;
    let init: InitResult;
    try {
      exports._initialize?.();
      init = callInit(exports, memory);
    } catch (err) {
      if (err instanceof DeadlineExceeded) {
        throw new GuestInitError(
          {
            errorType: 'Sandbox.Timedout',
            errorMessage: `Init timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`,
          },
          { cause: err },
        );
      }
      const reason = runtimeError(err, { requestId: 'init', log: this.#log, maxMemoryPages: this.#maxMemoryPages });
      throw new GuestInitError(reason, { cause: err });
    } finally {
      if (outside) {
        this.#outbound.abandonAll();
        this.#deadline = undefined;
        // Flush a partial last line now, with no request id.
        this.#log.end();
      }
    }
    if (!init.ok) throw new GuestInitError({ errorType: init.errorType, errorMessage: init.errorMessage });
    this.#instances += 1;
    return { exports, memory };
  }
}
