/**
 * The Lambda context of one invocation: the WIT world's `context` record (`RequestFacts`) and
 * its `environment.identity` (`FunctionIdentity`), which the guest asks for once
 * (`wasm-handlers/wit/handler.wit`).
 */
export interface InvokeContext extends FunctionIdentity, RequestFacts {}

/**
 * What stays the same for every invocation of one execution environment: read once at
 * init (from Lambda's environment variables, or a local function's configuration).
 */
export interface FunctionIdentity {
  functionName: string;
  functionVersion: string;
  memoryLimitMb: number;
  logGroupName: string;
  logStreamName: string;
}

/** What the platform says about one invocation (the Runtime API's `/next` headers). */
export interface RequestFacts {
  requestId: string;
  invokedFunctionArn: string;
  /** Deadline as milliseconds since the Unix epoch (`Lambda-Runtime-Deadline-Ms`). */
  deadlineMs: number;
  xrayTraceId?: string | undefined;
  /** Client context (mobile SDKs) as JSON text. */
  clientContext?: string | undefined;
  /** Cognito identity as JSON text. */
  identity?: string | undefined;
  tenantId?: string | undefined;
}

/**
 * The function's identity from Lambda's reserved environment variables, as every entry
 * (managed handler, raw runtime client) reads it once at init.
 *
 * ```ts
 * const identity = functionIdentity(process.env);
 * ```
 */
export function functionIdentity(env: Readonly<Record<string, string | undefined>>): FunctionIdentity {
  const memory = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 128);
  return {
    functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    memoryLimitMb: Number.isFinite(memory) && memory > 0 ? memory : 128,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
  };
}

/**
 * The one place an invocation's context is put together: the environment's identity plus the
 * request's facts. Every entry and the local tooling build it here, so the guest sees the same
 * fields whichever way it runs.
 *
 * ```ts
 * const ctx = invokeContext(identity, { requestId, invokedFunctionArn, deadlineMs });
 * ```
 */
export function invokeContext(identity: FunctionIdentity, request: RequestFacts): InvokeContext {
  return {
    functionName: identity.functionName,
    functionVersion: identity.functionVersion,
    memoryLimitMb: identity.memoryLimitMb,
    logGroupName: identity.logGroupName,
    logStreamName: identity.logStreamName,
    requestId: request.requestId,
    invokedFunctionArn: request.invokedFunctionArn,
    deadlineMs: request.deadlineMs,
    xrayTraceId: request.xrayTraceId,
    clientContext: request.clientContext,
    identity: request.identity,
    tenantId: request.tenantId,
  };
}

/**
 * The identity half of a context: what a host answers the guest's `environment.identity` with
 * when it was not configured with one.
 *
 * ```ts
 * const identity = identityOf(ctx); // { functionName, functionVersion, memoryLimitMb, … }
 * ```
 */
export function identityOf(ctx: InvokeContext): FunctionIdentity {
  const { functionName, functionVersion, memoryLimitMb, logGroupName, logStreamName } = ctx;
  return { functionName, functionVersion, memoryLimitMb, logGroupName, logStreamName };
}

/** The subset of the managed Node.js runtime's `context` object the host reads. */
export interface NodeLambdaContext {
  awsRequestId?: string | undefined;
  functionName?: string | undefined;
  functionVersion?: string | undefined;
  invokedFunctionArn?: string | undefined;
  memoryLimitInMB: string | number;
  logGroupName?: string | undefined;
  logStreamName?: string | undefined;
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
  // Lambda fills every field; emulators (`serverless invoke local`, test harnesses) leave some
  // out, and the guest ABI needs a string for each: fall back to what the environment says.
  return invokeContext(
    {
      functionName: context.functionName ?? env.AWS_LAMBDA_FUNCTION_NAME ?? '',
      functionVersion: context.functionVersion ?? env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
      memoryLimitMb: Number(context.memoryLimitInMB),
      logGroupName: context.logGroupName ?? env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
      logStreamName: context.logStreamName ?? env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    },
    {
      requestId: context.awsRequestId ?? '',
      invokedFunctionArn: context.invokedFunctionArn ?? '',
      deadlineMs: now + context.getRemainingTimeInMillis(),
      xrayTraceId: context.xRayTraceId ?? env._X_AMZN_TRACE_ID,
      clientContext: jsonOrUndefined(context.clientContext),
      identity: jsonOrUndefined(context.identity),
      tenantId: context.tenantId,
    },
  );
}
