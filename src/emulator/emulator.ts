import type { LogSink } from './execution-environment.js';
import type { FunctionConfig } from './function-config.js';
import { FunctionPool } from './function-pool.js';
import { InvokeApiServer } from './invoke-api-server.js';

export interface EmulatorOptions {
  functions: FunctionConfig[];
  /** Loopback by default; nothing else should reach an emulator. */
  host?: string | undefined;
  /** 0 picks a free port. */
  port?: number | undefined;
  /** What CloudWatch would receive: function logs and START/END/REPORT. Default: stdout. */
  logSink?: LogSink | undefined;
}

/**
 * A local Lambda: the Invoke API on one port, and per function a pool of execution
 * environments, each a real runtime process with its own Runtime API.
 *
 * ```ts
 * const emulator = await Emulator.start({ functions: [{ name: 'hello', kind: 'wasm', code: 'hello.wasm', ...FUNCTION_DEFAULTS }] });
 * // POST `${emulator.endpoint}/2015-03-31/functions/hello/invocations`
 * await emulator.stop();
 * ```
 */
export class Emulator {
  readonly endpoint: string;
  readonly #pools: Map<string, FunctionPool>;
  readonly #server: InvokeApiServer;

  private constructor(endpoint: string, pools: Map<string, FunctionPool>, server: InvokeApiServer) {
    this.endpoint = endpoint;
    this.#pools = pools;
    this.#server = server;
  }

  static async start(options: EmulatorOptions): Promise<Emulator> {
    const sink = options.logSink ?? ((line: string) => process.stdout.write(line));
    const pools = new Map(options.functions.map((fn) => [fn.name, new FunctionPool(fn, sink)]));
    const server = new InvokeApiServer(pools);
    const endpoint = await server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    return new Emulator(endpoint, pools, server);
  }

  /** The pool of a function, for inspection. */
  pool(name: string): FunctionPool | undefined {
    return this.#pools.get(name);
  }

  get functions(): FunctionConfig[] {
    return [...this.#pools.values()].map((pool) => pool.config);
  }

  async stop(): Promise<void> {
    for (const pool of this.#pools.values()) pool.close();
    await this.#server.close();
  }
}
