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
  readonly config: FunctionConfig;
  readonly #sink: LogSink;
  readonly #environments = new Set<ExecutionEnvironment>();
  readonly #queue: Queued[] = [];
  #closed = false;

  constructor(config: FunctionConfig, sink: LogSink) {
    this.config = config;
    this.#sink = sink;
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
      let environment = [...this.#environments].find((env) => !env.busy && !env.dead);
      if (!environment) {
        if (this.#environments.size >= this.config.maxConcurrency) return;
        environment = this.#spawn();
      }
      const next = this.#queue.shift();
      if (!next) return;
      const env = environment;
      env.run(next.invocation).then((result) => {
        next.resolve(result);
        this.#pump();
      });
    }
  }

  #spawn(): ExecutionEnvironment {
    const environment = new ExecutionEnvironment(this.config, this.#sink, () => {
      this.#environments.delete(environment);
      this.#pump();
    });
    this.#environments.add(environment);
    environment.start().catch((err: unknown) => {
      this.#sink(`wasi-lambda emulator: cannot start ${this.config.name}: ${String(err)}\n`);
      environment.stop();
    });
    return environment;
  }
}
