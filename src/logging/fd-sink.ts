import { writeSync } from 'node:fs';

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * A log sink that writes each line to a file descriptor synchronously, before returning.
 *
 * `process.stdout.write` queues in memory when stdout is a pipe and the event loop is busy, and
 * a guest runs synchronously: lines written before a timeout or a crash could still be queued
 * when the process ends, could arrive after the invocation's END line, and the queue grew without
 * bound. A synchronous write has none of that: when the guest's `fd_write` returns, the line is
 * in the pipe, in order. A full non-blocking pipe (`EAGAIN`) is waited on in 1 ms steps rather
 * than spun on; the wait is the reader's back-pressure, as a blocking write would be.
 *
 * ```ts
 * const sink = fdSink(1); // what CloudWatch reads on Lambda
 * sink('2026-11-23T10:00:00.000Z\tc6af…\tINFO\thello\n');
 * ```
 */
export function fdSink(fd: number): (line: string) => void {
  return (line) => writeAllSync(fd, Buffer.from(line, 'utf8'));
}

/** Writes every byte, retrying partial writes and `EAGAIN`. */
export function writeAllSync(fd: number, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.byteLength) {
    try {
      offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}
