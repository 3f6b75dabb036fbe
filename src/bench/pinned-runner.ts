import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ErrorCode, toError, WasiLambdaError } from '../errors.js';
import type { InProcessAnswers, InProcessJob } from './in-process-jobs.js';

const execFileAsync = promisify(execFile);

/** The CPUs this process may run on (`Cpus_allowed_list` of /proc/self/status), on Linux. */
function allowedCpus(): number[] {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return [];
  }
  const list = /^Cpus_allowed_list:\s*([\d,-]+)/m.exec(status)?.[1] ?? '';
  return list.split(',').flatMap((range) => {
    const [from, to = from] = range.split('-').map(Number);
    if (from === undefined || to === undefined || !(to >= from)) return [];
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/** How long one child may take; a stuck job (an SDK retrying a dead endpoint) must not hang the bench. */
const CHILD_TIMEOUT_MS = 10 * 60_000;

/** The child's bundle: beside the calling bundle in `dist/`, the built one when run from the sources. */
function childScript(): string {
  const beside = new URL('./bench-in-process.js', import.meta.url);
  if (existsSync(beside)) return fileURLToPath(beside);
  return fileURLToPath(new URL('../../dist/bench-in-process.js', import.meta.url));
}

/**
 * Runs the bench's in-process measurements (wasm, native, Node.js, and the host's own costs)
 * each in a child process pinned to one CPU with `taskset`, while the client and server
 * figures run unpinned. The vCPUs of a cloud machine are not alike (on the one this project is
 * measured on, the same 1 KB echo takes 18 µs on one and 32–36 µs on the other), so
 * in-process ratios are only fair when both sides run on the same CPU; the client figures,
 * where an emulator, a client and a runtime share the machine, need every CPU they have.
 * Without `taskset` (or off Linux) the children run unpinned, and `note` says so.
 *
 * ```ts
 * const runner = PinnedRunner.open();
 * const run = await runner.run({ kind: 'wasm', path, event: bytes.toString('base64'), samples: 300, warmup: 30 });
 * ```
 */
export class PinnedRunner {
  /** The CPU the children run on; undefined: unpinned. */
  readonly cpu: number | undefined;
  /** The CPUs the bench itself may use. */
  readonly #allowed: readonly number[];
  readonly #script: string;

  private constructor(cpu: number | undefined, allowed: readonly number[], script: string) {
    this.cpu = cpu;
    this.#allowed = allowed;
    this.#script = script;
  }

  /**
   * Pins to the first CPU the bench may use, if `taskset` can; otherwise the children run
   * unpinned.
   *
   * ```ts
   * const runner = PinnedRunner.open();
   * console.log(runner.note);
   * ```
   */
  static open(): PinnedRunner {
    const allowed = allowedCpus();
    const [cpu] = allowed;
    const pinnable = cpu !== undefined && spawnSync('taskset', ['-c', String(cpu), 'true']).status === 0;
    return new PinnedRunner(pinnable ? cpu : undefined, allowed, childScript());
  }

  /** How the in-process figures were taken, for the report's notes. */
  get note(): string {
    if (this.cpu === undefined) {
      return 'in-process figures: each variant in a child process, unpinned (no `taskset` here): on a machine whose CPUs differ, ratios move from run to run';
    }
    if (this.#allowed.length === 1) {
      return `the whole bench ran confined to CPU ${this.cpu} (its affinity allows no other): client and server figures share that one CPU with the emulator, the client and the runtime`;
    }
    return `in-process figures: each variant in a child process pinned to CPU ${this.cpu} (\`taskset\`), so that both sides of a ratio run on the same CPU; client and server figures unpinned (CPUs ${this.#allowed.join(', ')})`;
  }

  /** Runs `job` in a pinned Node.js child; its answer, or the child's error, with its code. */
  async run<J extends InProcessJob>(job: J): Promise<InProcessAnswers[J['kind']]> {
    const dir = mkdtempSync(join(tmpdir(), 'wasi-lambda-bench-'));
    try {
      const jobFile = join(dir, 'job.json');
      const answerFile = join(dir, 'answer.json');
      writeFileSync(jobFile, JSON.stringify(job));
      const what =
        job.kind === 'wasm'
          ? `wasm ${job.componentDir ?? job.path}`
          : job.kind === 'node'
            ? `node ${job.module}`
            : job.kind;
      await this.exec(process.execPath, [this.#script, jobFile, answerFile], what);
      const reply = JSON.parse(readFileSync(answerFile, 'utf8')) as
        | { answer: InProcessAnswers[J['kind']] }
        | { error: { code?: ErrorCode; message: string } };
      if ('error' in reply) throw new WasiLambdaError(reply.error.code ?? 'INVALID_INPUT', reply.error.message);
      return reply.answer;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Runs `file` pinned; its stdout. A failure rejects naming `what` and with the child's stderr. */
  async exec(file: string, args: readonly string[], what = file): Promise<string> {
    const [command, argv] =
      this.cpu === undefined ? [file, args] : ['taskset', ['-c', String(this.cpu), file, ...args]];
    try {
      const { stdout } = await execFileAsync(command, argv, {
        maxBuffer: 64 * 1024 * 1024,
        timeout: CHILD_TIMEOUT_MS,
      });
      return stdout;
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new WasiLambdaError(
        'INVALID_INPUT',
        `the in-process measurement (${what}) failed: ${stderr || toError(err).message}`,
        { cause: err },
      );
    }
  }
}
