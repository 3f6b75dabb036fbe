/**
 * WASI 0.2 imports for a handler component, written for least authority: no preopened
 * directories, no network, only the granted environment, stdin closed, and stdout/stderr
 * delivered to the host's log instead of the process's streams. jco's preview2-shim grants
 * the host filesystem, environment and network unless configured otherwise and starts an I/O
 * worker thread; a handler needs none of that.
 */
import { randomFillSync } from 'node:crypto';
import { hrtime } from 'node:process';
import type { GuestStream } from '../host/guest-output.js';
import { GuestExit } from '../host/outcome.js';

/** What the guest may see and where its output goes. */
export interface P2Grant {
  env: Readonly<Record<string, string>>;
  args: readonly string[];
  write(stream: GuestStream, bytes: Uint8Array): void;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread (no busy loop) until `deadline` on the monotonic clock, in ns. */
function sleepUntil(deadline: bigint): void {
  const ms = Number((deadline - hrtime.bigint()) / 1_000_000n);
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
}

class Pollable {
  constructor(readonly deadline: bigint = 0n) {}
  ready(): boolean {
    return hrtime.bigint() >= this.deadline;
  }
  block(): void {
    sleepUntil(this.deadline);
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
    return 1n << 20n;
  }
  write(contents: Uint8Array): void {
    if (this.stream && this.grant) this.grant.write(this.stream, contents);
  }
  blockingWriteAndFlush(contents: Uint8Array): void {
    this.write(contents);
  }
  flush(): void {}
  blockingFlush(): void {}
  writeZeroes(len: bigint): void {
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

function randomBytes(len: bigint): Uint8Array {
  return randomFillSync(new Uint8Array(Number(len)));
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
      subscribeInstant: (when: bigint) => new Pollable(when),
      subscribeDuration: (duration: bigint) => new Pollable(hrtime.bigint() + duration),
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
        sleepUntil(soonest);
        return Uint32Array.from(list.flatMap((p, i) => (p.ready() ? [i] : [])));
      },
    },
    'wasi:io/streams': { InputStream, OutputStream },
    'wasi:random/random': { getRandomBytes: randomBytes, getRandomU64: randomU64 },
    'wasi:random/insecure': { getInsecureRandomBytes: randomBytes, getInsecureRandomU64: randomU64 },
    'wasi:random/insecure-seed': { insecureSeed: () => [randomU64(), randomU64()] },
  };
}
