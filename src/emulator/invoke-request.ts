/**
 * The Invoke API's request parameters, validated the way Lambda validates them. Every value
 * that travels on to the runtime (client context, trace id, tenant id) leaves here as text
 * that is safe in an HTTP header; anything else is refused with the error Lambda answers.
 */

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface InvokeRequest {
  /** The bare function name, from a name, a partial ARN or a full ARN. */
  functionName: string;
  /** `$LATEST` or an alias/version, from `name:qualifier` or `?Qualifier=`. */
  qualifier: string | undefined;
  invocationType: InvocationType;
  logType: 'None' | 'Tail';
  /** The decoded client context as JSON text in ASCII, one line, for `Lambda-Runtime-Client-Context`. */
  clientContext: string | undefined;
  traceId: string | undefined;
  tenantId: string | undefined;
}

/** A refusal in Lambda's terms: HTTP status, `x-amzn-ErrorType`, message. */
export class InvokeRequestError extends Error {
  readonly status: number;
  readonly type: string;

  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/** `ClientContext`: "up to 3,583 bytes of base64-encoded data" (Invoke API reference). */
export const MAX_CLIENT_CONTEXT_BYTES = 3583;
const MAX_TRACE_ID_CHARS = 2048;

/** The Invoke API's `FunctionName` pattern, anchored; groups: name, qualifier. */
const FUNCTION_NAME =
  /^(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:[a-z]{2}(?:-gov)?-[a-z]+-\d:)?(?:\d{12}:)?(?:function:)?([a-zA-Z0-9_.-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;
const FUNCTION_NAME_SOURCE =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';
const QUALIFIER = /^[a-zA-Z0-9$_-]{1,128}$/;
/** Tenant ids as Lambda's tenant isolation documents them. */
const TENANT_ID = /^[a-zA-Z0-9._:/=+\-@ ]{1,256}$/;
/** Canonical base64 (with padding), as `base64.StdEncoding` decodes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INVALID_CLIENT_CONTEXT = 'Client context must be a valid Base64-encoded JSON object.';

function validation(value: string, member: string, constraint: string): InvokeRequestError {
  return new InvokeRequestError(
    400,
    'ValidationException',
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

function invalidContent(message: string): InvokeRequestError {
  return new InvokeRequestError(400, 'InvalidRequestContentException', message);
}

/**
 * Decodes `X-Amz-Client-Context` and re-encodes the same JSON text so it fits one header
 * line: the whitespace JSON allows between tokens (newlines included) becomes spaces, and
 * every non-ASCII character, which JSON allows only inside strings, becomes a `\uXXXX`
 * escape. Numbers and key order are kept as sent.
 */
export function clientContextHeader(base64: string): string {
  if (base64.length > MAX_CLIENT_CONTEXT_BYTES) {
    throw invalidContent(`Client context must be at most ${MAX_CLIENT_CONTEXT_BYTES} bytes of base64-encoded JSON.`);
  }
  if (!BASE64.test(base64)) throw invalidContent(INVALID_CLIENT_CONTEXT);
  let text: string;
  let value: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(base64, 'base64'));
    value = JSON.parse(text);
  } catch {
    throw invalidContent(INVALID_CLIENT_CONTEXT);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidContent(INVALID_CLIENT_CONTEXT);
  // JSON.parse accepted the text, so tab, CR and LF can only be whitespace between tokens.
  return text
    .replace(/[\t\n\r]/g, ' ')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Reads and validates an Invoke request's path parameter, query and headers.
 *
 * ```ts
 * const request = parseInvokeRequest('hello:$LATEST', new URLSearchParams(), (n) => req.headers[n]);
 * request.functionName; // 'hello'
 * ```
 */
export function parseInvokeRequest(
  rawFunctionName: string,
  query: URLSearchParams,
  header: (name: string) => string | undefined,
): InvokeRequest {
  let name: string;
  try {
    name = decodeURIComponent(rawFunctionName);
  } catch {
    name = rawFunctionName;
  }
  const match = name.length <= 170 ? FUNCTION_NAME.exec(name) : null;
  if (!match) {
    throw validation(name, 'functionName', `Member must satisfy regular expression pattern: ${FUNCTION_NAME_SOURCE}`);
  }
  const [, functionName = '', inName] = match;
  const inQuery = query.get('Qualifier') ?? undefined;
  if (inQuery !== undefined && !QUALIFIER.test(inQuery)) {
    throw validation(inQuery, 'qualifier', 'Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)');
  }
  if (inName !== undefined && inQuery !== undefined && inName !== inQuery) {
    throw new InvokeRequestError(
      400,
      'InvalidParameterValueException',
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }

  const invocationType = header('x-amz-invocation-type') ?? 'RequestResponse';
  if (invocationType !== 'RequestResponse' && invocationType !== 'Event' && invocationType !== 'DryRun') {
    throw validation(
      invocationType,
      'invocationType',
      'Member must satisfy enum value set: [Event, RequestResponse, DryRun]',
    );
  }
  const logType = header('x-amz-log-type') ?? 'None';
  if (logType !== 'None' && logType !== 'Tail') {
    throw validation(logType, 'logType', 'Member must satisfy enum value set: [None, Tail]');
  }

  const context = header('x-amz-client-context');
  const traceId = header('x-amzn-trace-id');
  if (traceId !== undefined && (traceId.length > MAX_TRACE_ID_CHARS || !/^[\x20-\x7e]+$/.test(traceId))) {
    throw invalidContent(`X-Amzn-Trace-Id must be printable ASCII of at most ${MAX_TRACE_ID_CHARS} characters.`);
  }
  const tenantId = header('x-amz-tenant-id');
  if (tenantId !== undefined && !TENANT_ID.test(tenantId)) {
    throw validation(
      tenantId,
      'tenantId',
      'Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\._:\\/=+\\-@ ]+$',
    );
  }
  return {
    functionName,
    qualifier: inName ?? inQuery,
    invocationType,
    logType,
    clientContext: context === undefined || context === '' ? undefined : clientContextHeader(context),
    traceId,
    tenantId,
  };
}
