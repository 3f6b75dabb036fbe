/** Lambda's documented limits and messages that the emulator enforces. */

// The payload limits are the runtime's (it enforces them too); the emulator uses the same numbers.
export { INIT_TIMEOUT_MS, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, responseTooLarge } from '../host/lambda-limits.js';
/** `LogType: Tail` returns the last 4 KB of the invocation's log. */
export const TAIL_LOG_BYTES = 4096;
/**
 * How often a working runtime's memory is read. One read of `/proc/<pid>/status` costs
 * ~25 µs, so 20 reads a second are ~0.05 % of a core per busy environment; a response is
 * checked once more when it arrives, so a short spike between polls is not missed.
 */
export const MEMORY_POLL_MS = 50;

export function timeoutMessage(requestId: string, timeoutSeconds: number): string {
  return `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

const SIGNAL_TEXT: Record<string, string> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
};

/** `exit status 3` or `signal: killed`, as Lambda words a runtime's end. */
export function terminationText(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signal: ${SIGNAL_TEXT[signal] ?? signal.toLowerCase()}`;
  return `exit status ${code ?? 0}`;
}
