import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { toError, WasiLambdaError } from '../errors.js';
import { compileGuest } from '../host/compile.js';
import { type FunctionIdentity, functionIdentity, type InvokeContext, identityOf } from '../host/context.js';
import type { FunctionHost } from '../host/function-host.js';
import { GuestLog } from '../host/guest-log.js';
import { unsupportedOutbound } from '../host/guest-outbound.js';
import { httpComponentImports } from '../host/http-import.js';
import { GuestInitError } from '../host/init-error.js';
import { INIT_TIMEOUT_MS, MAX_RESPONSE_BYTES, responseTooLarge } from '../host/lambda-limits.js';
import { type InvokeOutcome, runtimeError } from '../host/outcome.js';
import { timeoutError } from '../host/timeout.js';
import type { WasmHostOptions } from '../host/wasm-host.js';
import { fdSink } from '../logging/fd-sink.js';
import { DeadlineExceeded } from '../wasi/sleep.js';
import { wasiP2Imports } from './wasi-p2.js';

/** What jco's sync instantiation returns for the `lambda-handler` world. */
interface HandlerComponent {
  handle(event: Uint8Array, ctx: Record<string, unknown>): Uint8Array;
  /** `lambda-service` components: the function's init; an `err` is thrown, as for `handle`. */
  init?(): void;
}

type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, Record<string, unknown>>,
  instantiateCore: (module: WebAssembly.Module, imports: WebAssembly.Imports) => WebAssembly.Instance,
) => HandlerComponent;

interface ComponentMeta {
  name: string;
  cores: string[];
}

/** A thrown `err` case of `result<list<u8>, handler-error>`, as jco delivers it. */
function handlerError(thrown: unknown): { errorType: string; errorMessage: string } | undefined {
  const value = thrown !== null && typeof thrown === 'object' && 'payload' in thrown ? thrown.payload : thrown;
  if (value === null || typeof value !== 'object' || value instanceof Error) return undefined;
  const { errorType, errorMessage } = value as Record<string, unknown>;
  return typeof errorType === 'string' && typeof errorMessage === 'string' ? { errorType, errorMessage } : undefined;
}

/**
 * Runs a handler as a WebAssembly component: the `jco transpile` output of the module
 * wrapped by `jco new`, instantiated with wasi-lambda's least-authority WASI 0.2 imports.
 * Same contract and outcomes as `WasmHost`, through the component model's canonical ABI
 * implemented by jco instead of by wasi-lambda.
 *
 * ```ts
 * const host = await ComponentHost.fromDir('wasm-handlers/target/wasi-lambda/component/hello');
 * host.invoke(Buffer.from('{"name":"Ada"}'), context);
 * ```
 */
export class ComponentHost implements FunctionHost {
  readonly #instantiate: Instantiate;
  readonly #cores: Map<string, WebAssembly.Module>;
  readonly #log: GuestLog;
  readonly #options: WasmHostOptions;
  #component: HandlerComponent | undefined;
  #identity: FunctionIdentity | undefined;
  /** The current invocation's deadline, which bounds every sleep the guest asks for. */
  #deadline: number | undefined;
  #instances = 0;

  private constructor(instantiate: Instantiate, cores: Map<string, WebAssembly.Module>, options: WasmHostOptions) {
    this.#instantiate = instantiate;
    this.#cores = cores;
    this.#options = options;
    this.#identity = options.identity;
    this.#log = new GuestLog(options.logFormat ?? 'text', options.logSink ?? fdSink(1));
  }

  /** Loads `component.mjs` and compiles its core modules once (Lambda's init phase). */
  static async fromDir(dir: string, options: WasmHostOptions = {}): Promise<ComponentHost> {
    if (options.tmp !== undefined) {
      throw new WasiLambdaError(
        'INVALID_CONFIG',
        'the component backend grants no filesystem yet, so it cannot grant /tmp; run the core module (backend core) or remove the /tmp grant',
      );
    }
    let meta: ComponentMeta;
    try {
      meta = JSON.parse(readFileSync(join(dir, 'component.json'), 'utf8')) as ComponentMeta;
    } catch (err) {
      throw new WasiLambdaError(
        'HANDLER_NOT_FOUND',
        `no transpiled component in ${dir} (${toError(err).message}); run \`wasi-lambda build --component\``,
      );
    }
    const cores = new Map<string, WebAssembly.Module>();
    let memories = 0;
    for (const file of meta.cores) {
      // Every core module goes through the same load-time policy; the handler's own is the
      // one that defines the linear memory, and a second memory would get a second share.
      const module = await compileGuest(readFileSync(join(dir, file)), options.maxMemoryPages);
      memories += WebAssembly.Module.exports(module).filter((e) => e.kind === 'memory').length;
      cores.set(file, module);
    }
    if (memories > 1) {
      throw new WasiLambdaError(
        'MODULE_REFUSED',
        `the component in ${dir} has ${memories} core modules with their own memory; a handler component has one (build it with \`wasi-lambda build --component\`)`,
      );
    }
    const module = (await import(pathToFileURL(join(dir, 'component.mjs')).href)) as { instantiate: Instantiate };
    const host = new ComponentHost(module.instantiate, cores, options);
    host.#ensureInstance();
    return host;
  }

  get instanceCount(): number {
    return this.#instances;
  }

  invoke(event: Uint8Array, ctx: InvokeContext): InvokeOutcome {
    this.#log.begin(ctx.requestId);
    this.#deadline = ctx.deadlineMs;
    // As `WasmHost`: passed once, kept for the life of the host.
    this.#identity ??= identityOf(ctx);
    const started = Date.now();
    try {
      const component = this.#ensureInstance();
      const response = component.handle(event, { ...ctx, deadlineMs: BigInt(Math.max(0, Math.trunc(ctx.deadlineMs))) });
      // jco has already copied the response out; the limit still holds as Lambda's does.
      if (response.byteLength > MAX_RESPONSE_BYTES) {
        if (this.#options.instanceMode === 'fresh') this.#component = undefined;
        return { status: 'error', kind: 'handler', error: responseTooLarge(response.byteLength) };
      }
      // `fresh`: the next invocation gets a new instance, WASI state included.
      if (this.#options.instanceMode === 'fresh') this.#component = undefined;
      return { status: 'ok', response };
    } catch (thrown) {
      const error = handlerError(thrown);
      if (error) {
        if (this.#options.instanceMode === 'fresh') this.#component = undefined;
        return { status: 'error', kind: 'handler', error };
      }
      // jco refuses to re-enter a trapped instance; the next call gets a fresh one.
      this.#component = undefined;
      if (thrown instanceof DeadlineExceeded) {
        return { status: 'error', kind: 'runtime', error: timeoutError(ctx.requestId, ctx.deadlineMs - started) };
      }
      return {
        status: 'error',
        kind: 'runtime',
        error: runtimeError(thrown, {
          requestId: ctx.requestId,
          log: this.#log,
          maxMemoryPages: this.#options.maxMemoryPages,
        }),
      };
    } finally {
      this.#options.outbound?.abandonAll();
      this.#deadline = undefined;
      this.#log.end();
    }
  }

  #ensureInstance(): HandlerComponent {
    if (this.#component) return this.#component;
    const imports = wasiP2Imports({
      env: this.#options.env ?? {},
      args: [this.#options.programName ?? 'handler'],
      write: (stream, bytes) => this.#log.write(stream, bytes),
      deadline: () => this.#deadline,
    });
    // jco lowers the record (its fields camel-cased) into the guest's own allocations.
    imports['wasi-lambda:handler/environment'] = {
      identity: (): FunctionIdentity => this.#identity ?? functionIdentity({}),
    };
    imports['wasi-lambda:handler/http'] = httpComponentImports(
      this.#options.outbound ?? unsupportedOutbound,
      () => this.#deadline ?? Date.now(),
    );
    const component = this.#instantiate(
      (name) => {
        const module = this.#cores.get(name);
        if (!module)
          throw new WasiLambdaError('MODULE_INVALID', `the transpiled component needs ${name}, which is missing`);
        return module;
      },
      imports,
      (module, moduleImports) => new WebAssembly.Instance(module, moduleImports),
    );
    const outside = this.#deadline === undefined;
    if (outside) this.#deadline = Date.now() + INIT_TIMEOUT_MS;
    try {
      component.init?.();
    } catch (thrown) {
      const error = handlerError(thrown);
      if (error) throw new GuestInitError(error);
      if (thrown instanceof DeadlineExceeded) {
        throw new GuestInitError({
          errorType: 'Sandbox.Timedout',
          errorMessage: `Init timed out after ${(INIT_TIMEOUT_MS / 1000).toFixed(2)} seconds`,
        });
      }
      throw new GuestInitError(
        runtimeError(thrown, { requestId: 'init', log: this.#log, maxMemoryPages: this.#options.maxMemoryPages }),
        { cause: thrown },
      );
    } finally {
      if (outside) {
        this.#options.outbound?.abandonAll();
        this.#deadline = undefined;
        this.#log.end();
      }
    }
    this.#component = component;
    this.#instances += 1;
    return component;
  }
}
