import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionPool } from './function-pool.js';
import type { InvocationResult } from './invocation.js';
import { type InvokeRequest, InvokeRequestError, parseInvokeRequest } from './invoke-request.js';
import { MAX_REQUEST_BYTES, TAIL_LOG_BYTES } from './limits.js';
import { readBody } from './read-body.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** An AWS JSON error: the SDK reads the type from `x-amzn-ErrorType`. */
function awsError(res: ServerResponse, status: number, type: string, message: string): void {
  // A failure after the answer began can only end the connection.
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ Type: 'User', message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(body);
}

/** The last 4 KB of the invocation's log, cut at a character boundary. */
function tail(result: InvocationResult): string {
  const log = Buffer.from(`${result.logs.join('\n')}\n`);
  const start = Math.max(0, log.length - TAIL_LOG_BYTES);
  let cut = start;
  while (cut < log.length && ((log[cut] ?? 0) & 0xc0) === 0x80) cut++;
  return log.subarray(cut).toString('base64');
}

/**
 * The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), enough for
 * `@aws-sdk/client-lambda`, the AWS CLI and curl: invocation types, `LogType: Tail`,
 * `X-Amz-Function-Error`, and the 6 MB request limit. RIE's name `function` means the
 * first configured function.
 */
export class InvokeApiServer {
  readonly #server: Server;
  readonly #pools: Map<string, FunctionPool>;

  constructor(pools: Map<string, FunctionPool>) {
    this.#pools = pools;
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err: unknown) => awsError(res, 500, 'ServiceException', String(err)));
    });
    this.#server.requestTimeout = 0;
  }

  listen(port: number, host: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        const address = this.#server.address() as AddressInfo;
        const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`http://${shown}:${address.port}`);
      });
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #pool(name: string): FunctionPool | undefined {
    if (name === 'function' && !this.#pools.has('function')) return this.#pools.values().next().value;
    return this.#pools.get(name);
  }

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    // POST /2015-03-31/functions/{FunctionName}/invocations
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) {
      awsError(res, 404, 'UnknownOperationException', `no operation for ${req.method} ${url.pathname}`);
      return;
    }
    // Read (or drain) the body first, so a refusal never leaves it unread on the connection.
    const { bytes: body } = await readBody(req, MAX_REQUEST_BYTES);
    let request: InvokeRequest;
    try {
      request = parseInvokeRequest(match[1] ?? '', url.searchParams, (name) => header(req, name));
    } catch (err) {
      if (!(err instanceof InvokeRequestError)) throw err;
      awsError(res, err.status, err.type, err.message);
      return;
    }
    const name = request.functionName;
    const pool = this.#pool(name);
    // The emulator serves each function's $LATEST only; any other version or alias does not exist.
    if (!pool || (request.qualifier !== undefined && request.qualifier !== '$LATEST')) {
      const qualified = request.qualifier === undefined ? name : `${name}:${request.qualifier}`;
      awsError(
        res,
        404,
        'ResourceNotFoundException',
        `Function not found: arn:aws:lambda:${REGION}:${ACCOUNT}:function:${qualified}`,
      );
      return;
    }
    if (body === undefined) {
      awsError(
        res,
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${MAX_REQUEST_BYTES} bytes for the InvokeFunction operation`,
      );
      return;
    }
    const event = body.length === 0 ? Buffer.from('{}') : body;
    try {
      // Lambda accepts only JSON payloads; the bytes themselves go to the runtime untouched.
      JSON.parse(event.toString('utf8'));
    } catch (err) {
      awsError(
        res,
        400,
        'InvalidRequestContentException',
        `Could not parse request body into json: ${(err as Error).message}`,
      );
      return;
    }
    const invocation = {
      requestId: randomUUID(),
      event,
      invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${pool.config.name}`,
      traceId: request.traceId,
      clientContext: request.clientContext,
      tenantId: request.tenantId,
    };
    if (request.invocationType === 'DryRun') {
      res.writeHead(204, { 'x-amzn-requestid': invocation.requestId });
      res.end();
      return;
    }
    if (request.invocationType === 'Event') {
      void pool.invoke(invocation);
      res.writeHead(202, { 'x-amzn-requestid': invocation.requestId, 'content-length': 0 });
      res.end();
      return;
    }
    const result = await pool.invoke(invocation);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'content-length': String(result.body.length),
      'x-amzn-requestid': result.requestId,
      'x-amz-executed-version': '$LATEST',
    };
    // Lambda names every function error `Unhandled`; the runtime's own error type stays in the body.
    if (result.status === 'error') headers['x-amz-function-error'] = 'Unhandled';
    if (request.logType === 'Tail') headers['x-amz-log-result'] = tail(result);
    res.writeHead(200, headers);
    res.end(result.body);
  }
}
