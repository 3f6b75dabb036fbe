import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_RESPONSE_BYTES } from './limits.js';
import { readBody } from './read-body.js';

/** What an execution environment does with the runtime's calls. */
export interface RuntimeApiHandlers {
  /** The runtime is ready for an event; answer `res` when one arrives. */
  next(res: ServerResponse): void;
  /** `false` if the request id is not the invocation in flight. */
  response(requestId: string, body: Buffer): boolean;
  error(requestId: string, body: Buffer, errorType: string | undefined): boolean;
  /** A response or error body over the limit; `false` if the request id is not in flight. */
  tooLarge(requestId: string, bytes: number): boolean;
  initError(body: Buffer, errorType: string | undefined): void;
}

const PREFIX = '/2018-06-01/runtime';

/**
 * The runtime's `Lambda-Runtime-Function-Error-Type` as the platform keeps it, the way RIE
 * does: `Runtime.*` and `Function.*` names pass, anything else (a guest's free text, control
 * characters, kilobytes) becomes `Function.Unknown` or `Runtime.Unknown`.
 *
 * ```ts
 * platformErrorType('Runtime.OutOfMemory'); // 'Runtime.OutOfMemory'
 * platformErrorType('Boom\r\nX: y');       // 'Runtime.Unknown'
 * ```
 */
export function platformErrorType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (/^(?:Runtime|Function)\.[A-Z][a-zA-Z]{1,63}$/.test(header)) return header;
  return header.startsWith('Function.') ? 'Function.Unknown' : 'Runtime.Unknown';
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The Lambda Runtime API of one execution environment, as AWS documents it, on loopback.
 * Each environment gets its own server, as each Lambda sandbox has its own
 * `AWS_LAMBDA_RUNTIME_API` address.
 */
export class RuntimeApiServer {
  readonly #server: Server;

  constructor(handlers: RuntimeApiHandlers) {
    this.#server = createServer((req, res) => {
      this.#route(req, res, handlers).catch((err: unknown) =>
        reply(res, 500, { errorMessage: String(err), errorType: 'ServiceException' }),
      );
    });
    // /next is a long poll that may wait for minutes between invocations.
    this.#server.requestTimeout = 0;
    this.#server.keepAliveTimeout = 0;
  }

  /** Listens on an ephemeral loopback port and returns `host:port`. */
  listen(): Promise<string> {
    return new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => {
        const { address, port } = this.#server.address() as AddressInfo;
        resolve(`${address}:${port}`);
      });
    });
  }

  close(): void {
    this.#server.closeAllConnections();
    this.#server.close();
  }

  async #route(req: IncomingMessage, res: ServerResponse, handlers: RuntimeApiHandlers): Promise<void> {
    const path = (req.url ?? '').split('?')[0] ?? '';
    const errorType = req.headers['lambda-runtime-function-error-type'];
    const type = platformErrorType(Array.isArray(errorType) ? errorType[0] : errorType);

    // GET /2018-06-01/runtime/invocation/next
    if (req.method === 'GET' && path === `${PREFIX}/invocation/next`) {
      handlers.next(res);
      return;
    }
    // POST /2018-06-01/runtime/init/error
    if (req.method === 'POST' && path === `${PREFIX}/init/error`) {
      const { bytes, size } = await readBody(req, MAX_RESPONSE_BYTES);
      handlers.initError(
        bytes ??
          Buffer.from(
            JSON.stringify({
              errorType: 'Function.ResponseSizeTooLarge',
              errorMessage: `Response payload size (${size} bytes) exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
            }),
          ),
        type,
      );
      reply(res, 202, { status: 'OK' });
      return;
    }
    const match = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'POST' && match) {
      const [, requestId = '', kind] = match;
      const body = await readBody(req, MAX_RESPONSE_BYTES);
      // An error body is a payload like a response (RIE sends both through one path): over
      // the limit, the caller gets Function.ResponseSizeTooLarge and the runtime a 413.
      if (body.bytes === undefined) {
        if (!handlers.tooLarge(requestId, body.size)) {
          reply(res, 400, { errorMessage: `Invalid request ID: ${requestId}`, errorType: 'InvalidRequestID' });
          return;
        }
        reply(res, 413, {
          errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
          errorType: 'RequestEntityTooLarge',
        });
        return;
      }
      const bytes = body.bytes;
      // POST /2018-06-01/runtime/invocation/{id}/response, POST /2018-06-01/runtime/invocation/{id}/error
      const accepted =
        kind === 'response' ? handlers.response(requestId, bytes) : handlers.error(requestId, bytes, type);
      if (!accepted) {
        reply(res, 400, { errorMessage: `Invalid request ID: ${requestId}`, errorType: 'InvalidRequestID' });
        return;
      }
      reply(res, 202, { status: 'OK' });
      return;
    }
    reply(res, 404, { errorMessage: `No route for ${req.method} ${path}`, errorType: 'InvalidRequest' });
  }
}
