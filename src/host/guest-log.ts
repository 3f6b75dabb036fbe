import { formatLogLine, type LogFormat } from '../logging/log-format.js';
import { GuestOutput, type GuestStream } from './guest-output.js';

/** The line Rust's default allocation-error handler writes before aborting. */
const ALLOCATION_FAILED = /^memory allocation of \d+ bytes failed$/;
/** The line the SDK's panic hook writes before the module aborts. */
const PANICKED = /^panicked at /;

/**
 * Control characters other than tab become visible escapes (`\x1b`, `\r`): a guest must not
 * drive the terminal of whoever reads the log, nor break a record into what looks like two.
 */
export function sanitize(message: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return message.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => {
    if (c === '\r') return '\\r';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/**
 * A guest's stdout/stderr as Lambda log records, shared by every host backend: lines are
 * emitted as written with the current request id (`stdout` → INFO, `stderr` → ERROR), and
 * the two lines Rust writes right before it aborts (a panic, an allocation failure) are
 * remembered so the trap that follows can be reported for what it is.
 */
export class GuestLog {
  readonly #output: GuestOutput;
  readonly #format: LogFormat;
  readonly #sink: (line: string) => void;
  #requestId: string | undefined;
  /** `panicked at FILE:LINE:COL: message`, if the guest panicked during this invocation. */
  panic: string | undefined;
  /** `memory allocation of N bytes failed`, if the guest ran out of memory. */
  allocationFailure: string | undefined;

  constructor(format: LogFormat, sink: (line: string) => void) {
    this.#format = format;
    this.#sink = sink;
    this.#output = new GuestOutput((stream, line) => this.#line(stream, line));
  }

  /** Starts an invocation: later lines carry its request id. */
  begin(requestId: string): void {
    this.#requestId = requestId;
    this.panic = undefined;
    this.allocationFailure = undefined;
  }

  /** Ends it: a partial last line is emitted, still under its request id. */
  end(): void {
    this.#output.flush();
    this.#requestId = undefined;
  }

  write(stream: GuestStream, bytes: Uint8Array): void {
    this.#output.write(stream, bytes);
  }

  #line(stream: GuestStream, message: string): void {
    if (stream === 'stderr') {
      if (PANICKED.test(message)) this.panic = message;
      else if (ALLOCATION_FAILED.test(message)) this.allocationFailure = message;
    }
    const level = stream === 'stdout' ? 'INFO' : 'ERROR';
    this.#sink(formatLogLine(this.#format, level, this.#requestId, sanitize(message)));
  }
}
