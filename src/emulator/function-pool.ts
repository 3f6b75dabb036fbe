import { ExecutionEnvironment, type LogSink } from './execution-environment.js';
import type { FunctionConfig } from './function-config.js';
import type { Invocation, InvocationResult } from './invocation.js';

interface Queued {
  invocation: Invocation;
  resolve: (result: InvocationResult) => void;
}

/**
 * The execution environments of one function. Each serves one invocation at a time; when
 * all are busy a new one starts, up to `maxConcurrency`, and beyond that invocations wait
 * in order. A dead environment (timeout, crash) is dropped and replaced on demand.
 */
export class FunctionPool {
  #config: FunctionConfig;
  readonly #sink: LogSink;
  readonly #environments = new Set<ExecutionEnvironment>();
  /** Environments started before the last `swap`: they finish what they run, then stop. */
  readonly #retired = new WeakSet<ExecutionEnvironment>();
  readonly #queue: Queued[] = [];
  #closed = false;

  constructor(config: FunctionConfig, sink: LogSink) {
    this.#config = config;
    this.#sink = sink;
  }

  get config(): FunctionConfig {
    return this.#config;
  }

  /**
   * Serves a new version of the function (`wasi-lambda watch` after a rebuild) without
   * restarting the emulator: idle environments stop now, busy ones after their invocation,
   * and the next invocation starts a cold environment from `config.code`. Nothing queued
   * or running is lost.
   *
   * ```ts
   * emulator.pool('demo')?.swap({ ...fn, code: 'target/wasi-lambda/demo.wasm' });
   * ```
   */
  swap(config: FunctionConfig): void {
    this.#config = config;
    for (const environment of this.#environments) {
      this.#retired.add(environment);
      if (!environment.busy) this.#retire(environment);
    }
  }

  /** Environments alive now (for tests and the soak report). */
  get environmentCount(): number {
    return this.#environments.size;
  }

  /** Process ids of the live runtime processes (for memory measurements). */
  pids(): number[] {
    return [...this.#environments].flatMap((env) => (env.pid === undefined || env.dead ? [] : [env.pid]));
  }

  invoke(invocation: Invocation): Promise<InvocationResult> {
    return new Promise((resolve) => {
      this.#queue.push({ invocation, resolve });
      this.#pump();
    });
  }

  close(): void {
    this.#closed = true;
    for (const environment of this.#environments) environment.stop();
    this.#environments.clear();
  }

  #pump(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      let environment = [...this.#environments].find((env) => !env.busy && !env.dead && !this.#retired.has(env));
      if (!environment) {
        if (this.#environments.size >= this.#config.maxConcurrency) return;
        environment = this.#spawn();
      }
      const next = this.#queue.shift();
      if (!next) return;
      const env = environment;
      env.run(next.invocation).then((result) => {
        next.resolve(result);
        if (this.#retired.has(env)) this.#retire(env);
        this.#pump();
      });
    }
  }

  #retire(environment: ExecutionEnvironment): void {
    this.#environments.delete(environment);
    environment.stop();
  }

  #spawn(): ExecutionEnvironment {
    const environment = new ExecutionEnvironment(this.#config, this.#sink, () => {
      this.#environments.delete(environment);
      this.#pump();
    });
    this.#environments.add(environment);
    environment.start().catch((err: unknown) => {
      this.#sink(`wasi-lambda emulator: cannot start ${this.#config.name}: ${String(err)}\n`);
      environment.stop();
    });
    return environment;
  }
}
