import { WasiLambdaError } from '../errors.js';
import { HttpConnection } from './http-connection.js';

/** One invocation as `GET /2018-06-01/runtime/invocation/next` delivers it. */
export interface NextInvocation {
  requestId: string;
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId: string | undefined;
  clientContext: string | undefined;
  cognitoIdentity: string | undefined;
  tenantId: string | undefined;
  /** The raw event bytes, untouched. */
  event: Buffer;
}

export const RUNTIME_API_VERSION = '2018-06-01';

/**
 * What `Lambda-Runtime-Function-Error-Type` may carry: a short token. The guest chooses its
 * `errorType`, so anything else (CR, LF, characters that become them in latin1, kilobytes of
 * text) is left out of the header; the JSON body keeps it whole.
 */
const ERROR_TYPE_HEADER = /^[A-Za-z0-9._-]{1,128}$/;
/** Lambda's request ids are UUIDs; other Runtime APIs use similar tokens. They go into paths. */
const REQUEST_ID = /^[A-Za-z0-9._~:-]{1,256}$/;

/**
 * The error-type header for an error, or none. AWS's Node.js client sends none for invocation
 * errors and the Rust runtime sends `unhandled`; Lambda reads the type from the body either way.
 */
function errorTypeHeader(errorType: string): Record<string, string> {
  return ERROR_TYPE_HEADER.test(errorType) ? { 'lambda-runtime-function-error-type': errorType } : {};
}

function checkRequestId(requestId: string): string {
  if (!REQUEST_ID.test(requestId)) {
    throw new WasiLambdaError(
      'INVALID_INPUT',
      `the Runtime API sent the request id ${JSON.stringify(requestId.slice(0, 80))}, which is not a token; refusing to put it in a path`,
    );
  }
  return requestId;
}

function header(headers: Map<string, string>, name: string): string | undefined {
  return headers.get(name);
}

/**
 * A Lambda Runtime API client over one keep-alive connection, the way AWS's runtime clients
 * talk to the platform (`AWS_LAMBDA_RUNTIME_API=host:port`). Bodies are bytes in, bytes out.
 *
 * ```ts
 * const api = new RuntimeApiClient(process.env.AWS_LAMBDA_RUNTIME_API!);
 * const next = await api.next();
 * await api.respond(next.requestId, Buffer.from('{"ok":true}'));
 * ```
 */
export class RuntimeApiClient {
  readonly #connection: HttpConnection;

  constructor(address: string) {
    const [host, port, ...rest] = address.split(':');
    if (!host || !port || rest.length > 0 || !/^\d{1,5}$/.test(port)) {
      throw new WasiLambdaError('INVALID_CONFIG', `AWS_LAMBDA_RUNTIME_API is "${address}"; expected host:port`);
    }
    this.#connection = new HttpConnection(host, Number(port));
  }

  #call(method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}) {
    return this.#connection.request(method, `/${RUNTIME_API_VERSION}${path}`, body, headers);
  }

  /**
   * Connects to the Runtime API ahead of the first call: the raw runtime does it before it
   * compiles the guest, so the handshake is not on the cold start's path.
   */
  preconnect(): void {
    this.#connection.open();
  }

  /** `GET /runtime/invocation/next`: blocks until Lambda has an event for this environment. */
  async next(): Promise<NextInvocation> {
    const res = await this.#call('GET', '/runtime/invocation/next');
    if (res.status !== 200) {
      throw new WasiLambdaError('INVALID_INPUT', `runtime API /next answered ${res.status}: ${res.body.toString()}`);
    }
    const requestId = header(res.headers, 'lambda-runtime-aws-request-id');
    if (!requestId)
      throw new WasiLambdaError('INVALID_INPUT', 'runtime API /next sent no Lambda-Runtime-Aws-Request-Id');
    const deadline = header(res.headers, 'lambda-runtime-deadline-ms') ?? '0';
    return {
      requestId: checkRequestId(requestId),
      deadlineMs: /^\d{1,15}$/.test(deadline) ? Number(deadline) : 0,
      invokedFunctionArn: header(res.headers, 'lambda-runtime-invoked-function-arn') ?? '',
      traceId: header(res.headers, 'lambda-runtime-trace-id'),
      clientContext: header(res.headers, 'lambda-runtime-client-context'),
      cognitoIdentity: header(res.headers, 'lambda-runtime-cognito-identity'),
      tenantId: header(res.headers, 'lambda-runtime-aws-tenant-id'),
      event: res.body,
    };
  }

  /** `POST /runtime/invocation/{id}/response` with the response bytes as they are. */
  async respond(requestId: string, body: Uint8Array): Promise<void> {
    await this.#call('POST', `/runtime/invocation/${checkRequestId(requestId)}/response`, body);
  }

  /**
   * `POST /runtime/invocation/{id}/error` with a Lambda error body. The whole `errorType`
   * goes in the JSON body; the header carries it only when it is a short token.
   */
  async fail(requestId: string, error: { errorType: string; errorMessage: string }): Promise<void> {
    await this.#call(
      'POST',
      `/runtime/invocation/${checkRequestId(requestId)}/error`,
      Buffer.from(JSON.stringify(error)),
      { 'content-type': 'application/json', ...errorTypeHeader(error.errorType) },
    );
  }

  /** `POST /runtime/init/error`: initialisation failed; Lambda reports it and resets. */
  async initError(error: { errorType: string; errorMessage: string }): Promise<void> {
    await this.#call('POST', '/runtime/init/error', Buffer.from(JSON.stringify(error)), {
      'content-type': 'application/json',
      ...errorTypeHeader(error.errorType),
    });
  }
}
