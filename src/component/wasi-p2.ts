/**
 * WASI 0.2 imports for a handler component, written for least authority and under the same
 * policy as the preview1 layer (`src/wasi/`): no preopened directories, no sockets (their
 * interfaces are not provided, so a component importing them does not link), only the granted
 * environment, stdin closed, stdout/stderr delivered to the host's log instead of the
 * process's streams, randomness bounded per call, and sleeps honoured by blocking the thread
 * but never past the invocation's deadline. jco's preview2-shim grants the host filesystem,
 * environment and network unless configured otherwise and starts an I/O worker thread; a
 * handler needs none of that.
 */
import { hrtime } from 'node:process';
import type { GuestStream } from '../host/guest-output.js';
import { GuestExit } from '../host/outcome.js';
import { MAX_RANDOM_BYTES } from '../wasi/limits.js';
import { fillRandom } from '../wasi/random.js';
import { sleepMs } from '../wasi/sleep.js';

/** What the guest may see and where its output goes. */
export interface P2Grant {
  env: Readonly<Record<string, string>>;
  args: readonly string[];
  write(stream: GuestStream, bytes: Uint8Array): void;
  /**
   * Absolute deadline (ms since the epoch) of the current invocation, read at each blocking
   * call: a sleep that would pass it throws `DeadlineExceeded` (from `src/wasi/sleep.ts`) at
   * the deadline instead.
   */
  deadline?: (() => number | undefined) | undefined;
}

/** Bytes one output-stream write may carry (what `check-write` grants). */
const WRITE_BUDGET = 1n << 20n;

/**
 * A guest that breaks a wasi:io or wasi:random contract (asks for more than it may) traps:
 * these functions have no error case to return, and the trap fails only its own invocation.
 */
class ContractViolation extends Error {
  override name = 'WasiContractViolation';
}

/** Ready at `deadline` on the monotonic clock, in ns (0: ready now). */
class Pollable {
  constructor(
    readonly deadline: bigint = 0n,
    readonly invocationDeadline?: () => number | undefined,
  ) {}
  ready(): boolean {
    return hrtime.bigint() >= this.deadline;
  }
  block(): void {
    sleepUntil(this.deadline, this.invocationDeadline);
  }
}

/**
 * Blocks the thread (no busy loop) until `when` on the monotonic clock, never past the
 * invocation's deadline. The wait's clock is not ours: if it wakes a hair early, wait out the
 * rest, so a `poll` that slept always has a ready pollable to report.
 */
function sleepUntil(when: bigint, deadline: (() => number | undefined) | undefined): void {
  for (let ns = when - hrtime.bigint(); ns > 0n; ns = when - hrtime.bigint()) {
    sleepMs(Math.max(Number(ns) / 1e6, 0.001), deadline);
  }
}

class IoError {
  constructor(readonly message: string) {}
  toDebugString(): string {
    return this.message;
  }
}

class InputStream {
  read(_len: bigint): Uint8Array {
    throw { tag: 'closed' };
  }
  blockingRead(_len: bigint): Uint8Array {
    throw { tag: 'closed' };
  }
  skip(_len: bigint): bigint {
    throw { tag: 'closed' };
  }
  blockingSkip(_len: bigint): bigint {
    throw { tag: 'closed' };
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

/** Output accepted in any amount; writes go straight to the log, so flushing is a no-op. */
class OutputStream {
  constructor(
    private readonly stream: GuestStream | undefined,
    private readonly grant: P2Grant | undefined,
  ) {}
  checkWrite(): bigint {
    return WRITE_BUDGET;
  }
  write(contents: Uint8Array): void {
    if (BigInt(contents.length) > WRITE_BUDGET) {
      throw new ContractViolation(
        `output-stream.write of ${contents.length} bytes; check-write allowed ${WRITE_BUDGET}`,
      );
    }
    if (this.stream && this.grant) this.grant.write(this.stream, contents);
  }
  blockingWriteAndFlush(contents: Uint8Array): void {
    this.write(contents);
  }
  flush(): void {}
  blockingFlush(): void {}
  writeZeroes(len: bigint): void {
    // Checked before allocating: the guest names the length, the host would hold it.
    if (len > WRITE_BUDGET)
      throw new ContractViolation(`write-zeroes of ${len} bytes; check-write allowed ${WRITE_BUDGET}`);
    this.write(new Uint8Array(Number(len)));
  }
  blockingWriteZeroesAndFlush(len: bigint): void {
    this.writeZeroes(len);
  }
  splice(_src: InputStream, _len: bigint): bigint {
    throw { tag: 'closed' };
  }
  blockingSplice(_src: InputStream, _len: bigint): bigint {
    throw { tag: 'closed' };
  }
  subscribe(): Pollable {
    return new Pollable();
  }
}

/** Never created: there are no preopens. Present because the adapter imports the type. */
class Descriptor {}
class TerminalInput {}
class TerminalOutput {}

/** At most `MAX_RANDOM_BYTES` (16 MiB) per call, as preview1's `random_get`; more traps. */
function randomBytes(len: bigint): Uint8Array {
  if (len > BigInt(MAX_RANDOM_BYTES)) {
    throw new ContractViolation(`get-random-bytes of ${len} bytes; at most ${MAX_RANDOM_BYTES} per call`);
  }
  const bytes = new Uint8Array(Number(len));
  fillRandom(bytes, 0, bytes.length);
  return bytes;
}

function randomU64(): bigint {
  const bytes = randomBytes(8n);
  return new DataView(bytes.buffer).getBigUint64(0, true);
}

/**
 * The import object for a component transpiled by jco with `instantiation` mode, keyed by
 * WASI interface.
 *
 * ```ts
 * const component = instantiate(getCoreModule, wasiP2Imports({ env: {}, args: ['hello'], write }));
 * ```
 */
export function wasiP2Imports(grant: P2Grant): Record<string, Record<string, unknown>> {
  const deadline = grant.deadline;
  const stdout = new OutputStream('stdout', grant);
  const stderr = new OutputStream('stderr', grant);
  const stdin = new InputStream();
  return {
    'wasi:cli/environment': {
      getEnvironment: () => Object.entries(grant.env),
      getArguments: () => [...grant.args],
      initialCwd: () => undefined,
    },
    'wasi:cli/exit': {
      exit(status: { tag: 'ok' | 'err' }): never {
        throw new GuestExit(status.tag === 'ok' ? 0 : 1);
      },
    },
    'wasi:cli/stdin': { getStdin: () => stdin },
    'wasi:cli/stdout': { getStdout: () => stdout },
    'wasi:cli/stderr': { getStderr: () => stderr },
    'wasi:cli/terminal-input': { TerminalInput },
    'wasi:cli/terminal-output': { TerminalOutput },
    'wasi:cli/terminal-stdin': { getTerminalStdin: () => undefined },
    'wasi:cli/terminal-stdout': { getTerminalStdout: () => undefined },
    'wasi:cli/terminal-stderr': { getTerminalStderr: () => undefined },
    'wasi:clocks/monotonic-clock': {
      now: () => hrtime.bigint(),
      resolution: () => 1n,
      subscribeInstant: (when: bigint) => new Pollable(when, deadline),
      subscribeDuration: (duration: bigint) => new Pollable(hrtime.bigint() + duration, deadline),
    },
    'wasi:clocks/wall-clock': {
      now: () => {
        const ms = Date.now();
        return { seconds: BigInt(Math.floor(ms / 1000)), nanoseconds: (ms % 1000) * 1_000_000 };
      },
      resolution: () => ({ seconds: 0n, nanoseconds: 1_000_000 }),
    },
    'wasi:filesystem/preopens': { getDirectories: () => [] },
    'wasi:filesystem/types': { Descriptor, filesystemErrorCode: () => undefined },
    'wasi:io/error': { Error: IoError },
    'wasi:io/poll': {
      Pollable,
      poll(list: Pollable[]): Uint32Array {
        // Deadlines are bigint nanoseconds, which Math.min cannot compare.
        let soonest = list[0]?.deadline ?? 0n;
        for (const pollable of list) if (pollable.deadline < soonest) soonest = pollable.deadline;
        sleepUntil(soonest, deadline);
        return Uint32Array.from(list.flatMap((p, i) => (p.ready() ? [i] : [])));
      },
    },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: () => [randomU64(), randomU64()] },
  };
}
