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
 *
 * What it holds is bounded whatever the guest does: one partial line per stream, at most
 * `MAX_LINE_BYTES`, in a buffer allocated once; each byte written is copied once, so the
 * time is linear in what the guest writes, however it slices its writes.
 */
export class GuestOutput {
  readonly #pending: Record<GuestStream, Uint8Array | undefined> = { stdout: undefined, stderr: undefined };
  readonly #pendingBytes: Record<GuestStream, number> = { stdout: 0, stderr: 0 };
  readonly #onLine: (stream: GuestStream, line: string) => void;

  constructor(onLine: (stream: GuestStream, line: string) => void) {
    this.#onLine = onLine;
  }

  write(stream: GuestStream, bytes: Uint8Array): void {
    let start = 0;
    while (start < bytes.byteLength) {
      const newline = bytes.indexOf(NEWLINE, start);
      const end = newline === -1 ? bytes.byteLength : newline;
      const room = MAX_LINE_BYTES - this.#pendingBytes[stream];
      if (end - start >= room) {
        this.#append(stream, bytes.subarray(start, start + room));
        this.#emit(stream);
        start += room;
        continue;
      }
      if (newline !== -1 && this.#pendingBytes[stream] === 0) {
        // A whole line in one write: decoded straight from the guest's bytes, no copy.
        this.#line(stream, bytes.subarray(start, end));
        start = newline + 1;
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
    // Copied: the bytes are a view of guest memory, which the guest will overwrite.
    this.#pending[stream] ??= new Uint8Array(MAX_LINE_BYTES);
    this.#pending[stream].set(bytes, this.#pendingBytes[stream]);
    this.#pendingBytes[stream] += bytes.byteLength;
  }

  #emit(stream: GuestStream): void {
    const length = this.#pendingBytes[stream];
    this.#pendingBytes[stream] = 0;
    this.#line(stream, (this.#pending[stream] ?? EMPTY).subarray(0, length));
  }

  #line(stream: GuestStream, bytes: Uint8Array): void {
    // A CRLF-terminated line should not keep its CR.
    const end = bytes.at(-1) === 0x0d ? bytes.byteLength - 1 : bytes.byteLength;
    this.#onLine(stream, lenientDecoder.decode(bytes.subarray(0, end)));
  }
}

const EMPTY = new Uint8Array(0);
