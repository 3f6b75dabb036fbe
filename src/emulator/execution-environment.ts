import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { endLine, reportLine, startLine } from '../logging/report.js';
import { type FunctionConfig, runtimeCommand } from './function-config.js';
import { errorBody, type Invocation, type InvocationResult } from './invocation.js';
import { INIT_TIMEOUT_MS, MEMORY_POLL_MS, responseTooLarge, terminationText, timeoutMessage } from './limits.js';
import { processMemory } from './process-stats.js';
import { RuntimeApiServer } from './runtime-api-server.js';

/** Where the emulator writes what CloudWatch would receive. */
export type LogSink = (line: string) => void;

interface InFlight {
  invocation: Invocation;
  resolve: (result: InvocationResult) => void;
  started: number;
  delivered: boolean;
  logs: string[];
  timer?: NodeJS.Timeout;
}

const VERSION = '$LATEST';

/**
 * One Lambda execution environment: a runtime process, its own Runtime API, and at most one
 * invocation at a time. A timeout or a crash ends the environment; the pool starts a new one
 * (which reports an Init Duration again), as Lambda resets the environment after either.
 *
 * Memory is Lambda's: the runtime process's peak RSS (`VmHWM`) is Max Memory Used, polled
 * every {@link MEMORY_POLL_MS} ms during Init and invocations and once more when a response
 * arrives. A process whose peak passes the memory size is killed, as Lambda's cgroup kills
 * it: the invocation fails with `Runtime.ExitError` (`signal: killed`) and REPORT says
 * `Status: error  Error Type: Runtime.OutOfMemory`.
 */
export class ExecutionEnvironment {
  readonly #fn: FunctionConfig;
  readonly #sink: LogSink;
  readonly #api: RuntimeApiServer;
  readonly #logStream: string;
  #child: ChildProcess | undefined;
  #spawned = 0;
  #initDurationMs: number | undefined;
  #initReported = false;
  #initError: Buffer | undefined;
  #waiting: ServerResponse | undefined;
  #current: InFlight | undefined;
  #maxMemoryMb = 0;
  #memoryPoll: NodeJS.Timeout | undefined;
  #outOfMemory = false;
  #initTimer: NodeJS.Timeout | undefined;
  #dead = false;
  readonly #onDeath: () => void;

  constructor(fn: FunctionConfig, sink: LogSink, onDeath: () => void) {
    this.#fn = fn;
    this.#sink = sink;
    this.#onDeath = onDeath;
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    this.#logStream = `${day}/[${VERSION}]${randomBytes(16).toString('hex')}`;
    this.#api = new RuntimeApiServer({
      next: (res) => this.#onNext(res),
      response: (id, body) => this.#finish(id, { status: 'ok', body }),
      error: (id, body, errorType) => this.#finish(id, { status: 'error', body, errorType }),
      tooLarge: (id, bytes) => {
        const { errorType, errorMessage } = responseTooLarge(bytes);
        return this.#finish(id, { status: 'error', errorType, body: errorBody(errorType, errorMessage) });
      },
      initError: (body) => {
        this.#initError = body;
      },
    });
  }

  get busy(): boolean {
    return this.#current !== undefined;
  }

  get dead(): boolean {
    return this.#dead;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the runtime process (Lambda's Init phase begins). */
  async start(): Promise<void> {
    const address = await this.#api.listen();
    const { command, args, env } = runtimeCommand(this.#fn);
    const fn = this.#fn;
    this.#spawned = performance.now();
    // Only what Lambda sets, plus the function's own variables: nothing from this process.
    const child = spawn(command, args, {
      env: {
        ...fn.environment,
        ...env,
        AWS_LAMBDA_RUNTIME_API: address,
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: VERSION,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: this.#logStream,
        AWS_LAMBDA_LOG_FORMAT: fn.logFormat === 'json' ? 'JSON' : 'Text',
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_REGION: fn.environment.AWS_REGION ?? 'us-east-1',
        AWS_DEFAULT_REGION: fn.environment.AWS_REGION ?? 'us-east-1',
        // Lambda sets PATH (/var/lang/bin first); here the Node.js running the emulator.
        PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        TZ: ':UTC',
        LANG: 'en_US.UTF-8',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream)
        createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => this.#log(line));
    }
    child.on('exit', (code, signal) => this.#onExit(code, signal));
    this.#initTimer = setTimeout(() => this.#kill(), INIT_TIMEOUT_MS);
    this.#watchMemory(true);
  }

  /** Polls the runtime's memory while it works (Init, an invocation); idle environments are frozen on Lambda. */
  #watchMemory(on: boolean): void {
    clearInterval(this.#memoryPoll);
    this.#memoryPoll = on ? setInterval(() => this.#checkMemory(), MEMORY_POLL_MS) : undefined;
  }

  /** Updates Max Memory Used; over the memory size, kills the runtime. True if it is within. */
  #checkMemory(): boolean {
    const memory = processMemory(this.pid);
    if (memory) this.#maxMemoryMb = Math.max(this.#maxMemoryMb, Math.ceil(memory.peakKb / 1024));
    if (this.#maxMemoryMb <= this.#fn.memoryMb || this.#outOfMemory) return !this.#outOfMemory;
    this.#outOfMemory = true;
    this.#watchMemory(false);
    this.#kill();
    return false;
  }

  /** Runs one invocation; the environment must not be busy. */
  run(invocation: Invocation): Promise<InvocationResult> {
    return new Promise((resolve) => {
      this.#current = { invocation, resolve, started: performance.now(), delivered: false, logs: [] };
      if (this.#dead) {
        this.#fail(errorBody('Runtime.ExitError', `RequestId: ${invocation.requestId} Error: Runtime exited`), 'crash');
        return;
      }
      this.#deliver();
    });
  }

  /** Ends the environment (emulator shutdown). */
  stop(): void {
    this.#kill();
    this.#api.close();
  }

  #log(line: string): void {
    this.#sink(`${line}\n`);
    this.#current?.logs.push(line);
  }

  #platform(line: string): void {
    this.#sink(line);
    this.#current?.logs.push(line.replace(/\n$/, ''));
  }

  #onNext(res: ServerResponse): void {
    if (this.#initDurationMs === undefined) {
      this.#initDurationMs = performance.now() - this.#spawned;
      clearTimeout(this.#initTimer);
      if (!this.#checkMemory()) return;
      this.#watchMemory(false);
    }
    this.#waiting = res;
    this.#deliver();
  }

  #deliver(): void {
    const current = this.#current;
    const res = this.#waiting;
    if (!current || current.delivered || !res) return;
    this.#waiting = undefined;
    current.delivered = true;
    current.started = performance.now();
    const inv = current.invocation;
    const deadline = Date.now() + this.#fn.timeoutSeconds * 1000;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(inv.event.byteLength),
      'lambda-runtime-aws-request-id': inv.requestId,
      'lambda-runtime-deadline-ms': String(deadline),
      'lambda-runtime-invoked-function-arn': inv.invokedFunctionArn,
      'lambda-runtime-trace-id':
        inv.traceId ??
        `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`,
    };
    if (inv.clientContext !== undefined) headers['lambda-runtime-client-context'] = inv.clientContext;
    if (inv.cognitoIdentity !== undefined) headers['lambda-runtime-cognito-identity'] = inv.cognitoIdentity;
    if (inv.tenantId !== undefined) headers['lambda-runtime-aws-tenant-id'] = inv.tenantId;
    this.#platform(startLine(inv.requestId, VERSION));
    res.writeHead(200, headers);
    res.end(inv.event);
    current.timer = setTimeout(() => this.#timeout(), this.#fn.timeoutSeconds * 1000);
    this.#watchMemory(true);
  }

  #timeout(): void {
    const current = this.#current;
    if (!current) return;
    this.#checkMemory();
    const message = timeoutMessage(current.invocation.requestId, this.#fn.timeoutSeconds);
    this.#platform(`${new Date().toISOString()} ${message}\n`);
    this.#fail(errorBody('Sandbox.Timedout', message), 'timeout');
    this.#kill();
  }

  #finish(
    requestId: string,
    outcome: { status: 'ok' | 'error'; body: Buffer; errorType?: string | undefined },
  ): boolean {
    const current = this.#current;
    if (!current?.delivered || current.invocation.requestId !== requestId) return false;
    // Lines the runtime wrote before posting may still sit in the pipe: let this I/O turn
    // deliver them so they land before END, as they were written.
    setImmediate(() => {
      if (this.#current !== current) return;
      this.#watchMemory(false);
      // A peak over the memory size between two polls: Lambda would have killed the process
      // before it answered, so the answer does not count (the exit completes the invocation).
      if (!this.#checkMemory()) return;
      this.#complete(outcome.status, outcome.body, undefined, outcome.errorType);
    });
    return true;
  }

  #fail(body: Buffer, failure: 'timeout' | 'crash' | 'init', errorType?: string): void {
    this.#complete('error', body, failure, errorType);
  }

  #complete(
    status: 'ok' | 'error',
    body: Buffer,
    failure: InvocationResult['failure'],
    errorType: string | undefined,
  ): void {
    const current = this.#current;
    if (!current) return;
    clearTimeout(current.timer);
    this.#watchMemory(false);
    const requestId = current.invocation.requestId;
    const durationMs = current.delivered ? performance.now() - current.started : 0;
    const initDurationMs = this.#initReported ? undefined : this.#initDurationMs;
    this.#initReported = true;
    // Not clamped to the memory size: a process that went over it shows by how much.
    const memory = this.#maxMemoryMb;
    this.#platform(endLine(requestId));
    const report = reportLine({
      requestId,
      durationMs: failure === 'timeout' ? this.#fn.timeoutSeconds * 1000 : durationMs,
      memorySizeMb: this.#fn.memoryMb,
      maxMemoryUsedMb: memory,
      initDurationMs,
    });
    this.#platform(report.replace(/\t\n$/, `\t${reportStatus(failure, errorType)}\n`));
    // Only now: END and REPORT belong to this invocation's log (LogType: Tail).
    this.#current = undefined;
    current.resolve({
      requestId,
      status,
      body,
      failure,
      errorType,
      durationMs,
      initDurationMs,
      maxMemoryUsedMb: memory,
      logs: current.logs,
    });
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(this.#initTimer);
    this.#watchMemory(false);
    this.#dead = true;
    this.#waiting = undefined;
    this.#api.close();
    const current = this.#current;
    if (current) {
      const requestId = current.invocation.requestId;
      if (this.#initError && this.#initError.length > 0) {
        this.#fail(this.#initError, 'init');
      } else {
        const message = `RequestId: ${requestId} Error: Runtime exited with error: ${terminationText(code, signal)}`;
        this.#platform(`${message}\nRuntime.ExitError\n`);
        const errorType = this.#outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
        this.#fail(errorBody('Runtime.ExitError', message), 'crash', errorType);
      }
    }
    this.#onDeath();
  }

  #kill(): void {
    // From now on the pool must not hand this environment another invocation.
    this.#dead = true;
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }
}

/** What REPORT adds after the figures: nothing for an answer, the status for a platform-detected failure. */
function reportStatus(failure: InvocationResult['failure'], errorType: string | undefined): string {
  if (failure === 'timeout') return 'Status: timeout';
  if (failure === 'crash') return `Status: error\tError Type: ${errorType ?? 'Runtime.ExitError'}`;
  return '';
}
