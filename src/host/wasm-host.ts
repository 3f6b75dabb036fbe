import { readFile } from 'node:fs/promises';
import { toError, WasiLambdaError } from '../errors.js';
import type { LogFormat } from '../logging/log-format.js';
import { callHandle, checkContract, type HandlerExports, readPanicInfo } from './abi.js';
import { compileGuest } from './compile.js';
import type { InvokeContext } from './context.js';
import { GuestLog } from './guest-log.js';
import { GuestMemory } from './guest-memory.js';
import type { GuestStream } from './guest-output.js';
import { type FunctionHost, GuestExit, type InvokeOutcome, runtimeError } from './outcome.js';

export type { InvokeOutcome, LambdaErrorBody } from './outcome.js';

import { createWasiBackend, type WasiBackend, type WasiKind, type WasiSession } from './wasi/index.js';

export interface WasmHostOptions {
  /** WASI implementation; `wasmer` (default) has no host filesystem at all. */
  wasi?: WasiKind;
  /** The guest's entire environment. Nothing from the host's leaks in. */
  env?: Readonly<Record<string, string>>;
  /** `argv[0]` the guest sees; defaults to the function name. */
  programName?: string;
  logFormat?: LogFormat;
  /** Where formatted log lines go: CloudWatch reads the process's stdout. */
  logSink?: (line: string) => void;
  /**
   * The most linear memory the guest may grow to, in 64 KiB pages; see `guestMemoryPages`
   * for the share of a function's memory size. Unset: the module's own limit.
   */
  maxMemoryPages?: number | undefined;
  /**
   * `reuse` (default) keeps one instance warm across invocations, as Lambda keeps an
   * execution environment. `fresh` gives every invocation the guest's state as it was right
   * after initialisation, by restoring a snapshot of the initialised linear memory (and
   * re-instantiating only when the guest grew its memory).
   */
  instanceMode?: InstanceMode | undefined;
  /** Grant a writable `/tmp` backed by this host directory (see `WasiGrant.tmp`). Default: none. */
  tmpDir?: string | undefined;
}

/** How guest state carries over between invocations. */
export type InstanceMode = 'reuse' | 'fresh';

const WASI_ERRNO_SUCCESS = 0;
/** uvwasi answers an out-of-bounds pointer with EOVERFLOW; so does this host. */
const WASI_ERRNO_OVERFLOW = 61;

interface LiveInstance {
  exports: HandlerExports;
  memory: GuestMemory;
  wasi: WasiSession;
  /** `fresh` mode: linear memory right after initialisation. */
  snapshot?: Uint8Array | undefined;
}

/**
 * Runs a handler module: compiled once, instantiated with WASI, invoked with the raw event
 * bytes and the Lambda context through linear memory.
 *
 * ```ts
 * const host = await WasmHost.fromFile('hello.wasm', { env: { STAGE: 'dev' } });
 * const outcome = host.invoke(new TextEncoder().encode('{"name":"Ada"}'), context);
 * if (outcome.status === 'ok') console.log(new TextDecoder().decode(outcome.response));
 * ```
 */
export class WasmHost implements FunctionHost {
  readonly #module: WebAssembly.Module;
  readonly #backend: WasiBackend;
  readonly #options: Required<
    Omit<WasmHostOptions, 'wasi' | 'programName' | 'maxMemoryPages' | 'instanceMode' | 'tmpDir'>
  > & {
    tmpDir: string | undefined;
    programName: string;
    maxMemoryPages: number | undefined;
    instanceMode: InstanceMode;
  };
  readonly #log: GuestLog;
  #instance: LiveInstance | undefined;
  #instances = 0;

  private constructor(module: WebAssembly.Module, backend: WasiBackend, options: WasmHostOptions) {
    this.#module = module;
    this.#backend = backend;
    this.#options = {
      env: options.env ?? {},
      programName: options.programName ?? 'handler',
      logFormat: options.logFormat ?? 'text',
      logSink: options.logSink ?? ((line) => process.stdout.write(line)),
      maxMemoryPages: options.maxMemoryPages,
      instanceMode: options.instanceMode ?? 'reuse',
      tmpDir: options.tmpDir,
    };
    this.#log = new GuestLog(this.#options.logFormat, this.#options.logSink);
  }

  /** Compiles `bytes` and prepares the first instance (Lambda's init phase). */
  static async create(
    bytes: Uint8Array<ArrayBuffer> | WebAssembly.Module,
    options: WasmHostOptions = {},
  ): Promise<WasmHost> {
    let module: WebAssembly.Module;
    if (bytes instanceof WebAssembly.Module) {
      module = bytes;
    } else {
      module = await compileGuest(bytes, options.maxMemoryPages);
    }
    checkContract(module);
    const backend = await createWasiBackend(options.wasi ?? 'wasmer');
    const host = new WasmHost(module, backend, options);
    host.#ensureInstance();
    return host;
  }

  static async fromFile(path: string, options: WasmHostOptions = {}): Promise<WasmHost> {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new WasiLambdaError('HANDLER_NOT_FOUND', `cannot read ${path}: ${toError(err).message}`, { cause: err });
    }
    return WasmHost.create(bytes, options);
  }

  /** Which WASI implementation this host uses. */
  get wasi(): WasiKind {
    return this.#backend.kind;
  }

  /** How many instances were created so far: 1 plus one per replaced instance. */
  get instanceCount(): number {
    return this.#instances;
  }

  /**
   * Runs one invocation. Never throws for guest misbehaviour: a trap, `proc_exit` or ABI
   * violation becomes a `runtime` error outcome and the instance is replaced.
   */
  invoke(event: Uint8Array, ctx: InvokeContext): InvokeOutcome {
    this.#log.begin(ctx.requestId);
    let live: LiveInstance | undefined;
    try {
      live = this.#ensureInstance();
      const result = callHandle(live.exports, live.memory, event, ctx);
      if (live.snapshot) this.#restore(live);
      if (result.ok) return { status: 'ok', response: result.body };
      return {
        status: 'error',
        kind: 'handler',
        error: { errorType: result.errorType, errorMessage: result.errorMessage },
      };
    } catch (err) {
      const error = runtimeError(err, {
        requestId: ctx.requestId,
        log: this.#log,
        panic: live ? readPanicInfo(live.exports, live.memory) : undefined,
        maxMemoryPages: this.#options.maxMemoryPages,
      });
      this.#discardInstance();
      return { status: 'error', kind: 'runtime', error };
    } finally {
      this.#log.end();
    }
  }

  #ensureInstance(): LiveInstance {
    if (this.#instance) return this.#instance;
    const wasi = this.#backend.session(this.#module, {
      env: this.#options.env,
      args: [this.#options.programName],
      tmp: this.#options.tmpDir,
    });
    let memory: GuestMemory | undefined;
    const imports: WebAssembly.ModuleImports = {
      ...wasi.imports,
      fd_write: (fd: number, iovs: number, iovsLen: number, nwritten: number): number => {
        const stream: GuestStream | undefined = fd === 1 ? 'stdout' : fd === 2 ? 'stderr' : undefined;
        const fallback = wasi.imports.fd_write;
        if (stream === undefined || memory === undefined) {
          return typeof fallback === 'function' ? (fallback(fd, iovs, iovsLen, nwritten) as number) : 8;
        }
        return this.#guestWrite(memory, stream, iovs, iovsLen, nwritten);
      },
      proc_exit: (code: number): never => {
        throw new GuestExit(code >>> 0);
      },
    };
    let instance: WebAssembly.Instance;
    try {
      instance = new WebAssembly.Instance(this.#module, { wasi_snapshot_preview1: imports });
    } catch (err) {
      wasi.dispose();
      throw new WasiLambdaError('MODULE_INVALID', `cannot instantiate the module: ${toError(err).message}`, {
        cause: err,
      });
    }
    const exports = instance.exports as unknown as HandlerExports;
    memory = new GuestMemory(exports.memory);
    wasi.start(instance);
    const snapshot =
      this.#options.instanceMode === 'fresh' ? memory.copyOut(0, memory.byteLength, 'snapshot') : undefined;
    this.#instance = { exports, memory, wasi, snapshot };
    this.#instances += 1;
    return this.#instance;
  }

  /**
   * Puts the initialised memory back. If the guest grew its memory, its allocator's state in
   * the snapshot would no longer match the memory's size, so the instance is replaced instead.
   */
  #restore(live: LiveInstance): void {
    const snapshot = live.snapshot;
    if (!snapshot) return;
    if (live.memory.byteLength !== snapshot.byteLength) {
      this.#discardInstance();
      return;
    }
    live.memory.write(0, snapshot, 'snapshot');
  }

  #discardInstance(): void {
    this.#instance?.wasi.dispose();
    this.#instance = undefined;
  }

  /** `fd_write` for stdout/stderr: every iovec is validated before anything is written. */
  #guestWrite(memory: GuestMemory, stream: GuestStream, iovs: number, iovsLen: number, nwritten: number): number {
    const chunks: Uint8Array[] = [];
    let total = 0;
    try {
      const count = iovsLen >>> 0;
      memory.check(iovs, count * 8, 'iovec array');
      memory.check(nwritten, 4, 'nwritten');
      for (let i = 0; i < count; i++) {
        const at = (iovs >>> 0) + i * 8;
        const ptr = memory.u32(at, 'iovec');
        const len = memory.u32(at + 4, 'iovec');
        chunks.push(memory.view(ptr, len, 'iovec buffer'));
        total += len;
      }
      if (total > 0xffff_ffff) return WASI_ERRNO_OVERFLOW;
    } catch (err) {
      if (err instanceof WasiLambdaError && err.code === 'GUEST_ABI_VIOLATION') return WASI_ERRNO_OVERFLOW;
      throw err;
    }
    for (const chunk of chunks) this.#log.write(stream, chunk);
    memory.setU32(nwritten, total, 'nwritten');
    return WASI_ERRNO_SUCCESS;
  }
}
