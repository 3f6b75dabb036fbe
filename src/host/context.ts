/**
 * The Lambda context of one invocation, field for field the `context` record of the WIT
 * world (`wasm-handlers/wit/handler.wit`).
 */
export interface InvokeContext {
  requestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitMb: number;
  /** Deadline as milliseconds since the Unix epoch (`Lambda-Runtime-Deadline-Ms`). */
  deadlineMs: number;
  logGroupName: string;
  logStreamName: string;
  xrayTraceId?: string | undefined;
  /** Client context (mobile SDKs) as JSON text. */
  clientContext?: string | undefined;
  /** Cognito identity as JSON text. */
  identity?: string | undefined;
  tenantId?: string | undefined;
}

/** The subset of the managed Node.js runtime's `context` object the host reads. */
export interface NodeLambdaContext {
  awsRequestId: string;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string | number;
  logGroupName: string;
  logStreamName: string;
  getRemainingTimeInMillis(): number;
  identity?: unknown;
  clientContext?: unknown;
  tenantId?: string | undefined;
  xRayTraceId?: string | undefined;
}

function jsonOrUndefined(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : JSON.stringify(value);
}

/**
 * Builds the guest context from the managed runtime's `context` and environment.
 *
 * ```ts
 * const ctx = fromNodeContext(context, process.env);
 * ```
 */
export function fromNodeContext(
  context: NodeLambdaContext,
  env: Readonly<Record<string, string | undefined>>,
  now: number = Date.now(),
): InvokeContext {
  return {
    requestId: context.awsRequestId,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitMb: Number(context.memoryLimitInMB),
    deadlineMs: now + context.getRemainingTimeInMillis(),
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    xrayTraceId: context.xRayTraceId ?? env._X_AMZN_TRACE_ID,
    clientContext: jsonOrUndefined(context.clientContext),
    identity: jsonOrUndefined(context.identity),
    tenantId: context.tenantId,
  };
}
