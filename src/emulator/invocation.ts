/** One invocation as the Invoke API received it. */
export interface Invocation {
  requestId: string;
  /** The raw event bytes, passed to the runtime untouched. */
  event: Buffer;
  invokedFunctionArn: string;
  traceId?: string | undefined;
  /** Decoded `X-Amz-Client-Context` (JSON text). */
  clientContext?: string | undefined;
  cognitoIdentity?: string | undefined;
  tenantId?: string | undefined;
}

/** How it ended, with what the REPORT line and `LogType: Tail` need. */
export interface InvocationResult {
  requestId: string;
  /** `ok`: the response body; `error`: a Lambda error body (JSON). */
  status: 'ok' | 'error';
  body: Buffer;
  /** `timeout` and `crash` mark platform-detected failures (REPORT `Status:`). */
  failure?: 'timeout' | 'crash' | 'init' | undefined;
  /**
   * The platform's error type: `Runtime.OutOfMemory`, `Runtime.ExitError` or
   * `Function.ResponseSizeTooLarge` for what the emulator detected, or the runtime's
   * `Lambda-Runtime-Function-Error-Type` as RIE keeps it (`Runtime.*`/`Function.*` only).
   */
  errorType?: string | undefined;
  durationMs: number;
  initDurationMs?: number | undefined;
  maxMemoryUsedMb: number;
  /** Every log line of the invocation, START to REPORT. */
  logs: string[];
}

/** A Lambda error body as bytes. */
export function errorBody(errorType: string, errorMessage: string): Buffer {
  return Buffer.from(JSON.stringify({ errorType, errorMessage }));
}
