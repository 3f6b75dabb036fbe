/** A guest's output stream, as the host routes it to the log. */
export type GuestStream = 'stdout' | 'stderr';

/**
 * CloudWatch caps one log event at 256 KB; a longer line is split rather than dropped or
 * sent whole and rejected.
 */
export const MAX_LINE_BYTES = 256 * 1024;

const NEWLINE = 0x0a;
const lenientDecoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Splits what the guest writes into lines as it writes them, so a trap or a timeout never
 * loses output that was already written; only a trailing partial line waits for `flush`.
 * Lines are decoded as UTF-8 with replacement characters for invalid bytes: a log must not
 * fail because a guest wrote bytes that are not text.
 */
export class GuestOutput {
  readonly #pending: Record<GuestStream, Uint8Array[]> = { stdout: [], stderr: [] };
  readonly #pendingBytes: Record<GuestStream, number> = { stdout: 0, stderr: 0 };
  readonly #onLine: (stream: GuestStream, line: string) => void;

  constructor(onLine: (stream: GuestStream, line: string) => void) {
    this.#onLine = onLine;
  }

  write(stream: GuestStream, bytes: Uint8Array): void {
    let start = 0;
    while (start < bytes.byteLength) {
      const newline = bytes.indexOf(NEWLINE, start);
      const room = MAX_LINE_BYTES - this.#pendingBytes[stream];
      const end = newline === -1 ? bytes.byteLength : newline;
      if (end - start >= room) {
        this.#append(stream, bytes.subarray(start, start + room));
        this.#emit(stream);
        start += room;
        continue;
      }
      this.#append(stream, bytes.subarray(start, end));
      if (newline === -1) return;
      this.#emit(stream);
      start = newline + 1;
    }
  }

  /** Emits any partial lines; call at the end of an invocation, even a failed one. */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#pendingBytes[stream] > 0) this.#emit(stream);
    }
  }

  #append(stream: GuestStream, bytes: Uint8Array): void {
    if (bytes.byteLength === 0) return;
    // Copy: the bytes are a view of guest memory, which the guest will overwrite.
    this.#pending[stream].push(bytes.slice());
    this.#pendingBytes[stream] += bytes.byteLength;
  }

  #emit(stream: GuestStream): void {
    const parts = this.#pending[stream];
    const joined = parts.length === 1 && parts[0] ? parts[0] : concat(parts, this.#pendingBytes[stream]);
    this.#pending[stream] = [];
    this.#pendingBytes[stream] = 0;
    // A CRLF-terminated line should not keep its CR.
    const end = joined.at(-1) === 0x0d ? joined.byteLength - 1 : joined.byteLength;
    this.#onLine(stream, lenientDecoder.decode(joined.subarray(0, end)));
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
