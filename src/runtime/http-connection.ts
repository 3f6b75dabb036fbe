import { connect, type Socket } from 'node:net';
import { WasiLambdaError } from '../errors.js';

export interface RawResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Map<string, string>;
  body: Buffer;
}

/** Status line and headers together; larger is a broken or hostile peer (Node.js allows 16 KB). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** A response body; Lambda's largest event is 6 MB, so this leaves room without being unbounded. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** A chunk-size line with its extensions. */
const MAX_CHUNK_LINE_BYTES = 4096;

const LF = 0x0a;
const CR = 0x0d;
/** RFC 9110 `token`: header names and methods. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Tab, visible ASCII and obs-text: no CR, LF, NUL or other controls, nothing beyond latin1. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** An absolute path of non-empty RFC 3986 `pchar` segments: no query, fragment or `//`. */
const CLEAN_PATH = /^(?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+)+$/;
/** Headers the connection itself writes; a caller setting them would contradict it. */
const RESERVED = new Set(['host', 'connection', 'content-length', 'transfer-encoding']);

function protocolError(message: string): WasiLambdaError {
  return new WasiLambdaError('INVALID_INPUT', `Runtime API: ${message}`);
}

/** `.` or `..`, also when percent-encoded (a server may decode before it resolves). */
function isDotSegment(segment: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    return true;
  }
  return decoded === '.' || decoded === '..';
}

/** Refuses what would let a value become a second header or a second request. */
function checkRequest(method: string, path: string, headers: Record<string, string>): void {
  if (!TOKEN.test(method)) throw protocolError(`refusing the request method ${JSON.stringify(method)}`);
  if (path !== '/' && (!CLEAN_PATH.test(path) || path.split('/').some(isDotSegment))) {
    throw protocolError(`refusing the request path ${JSON.stringify(path)}: not a clean absolute path`);
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name)) throw protocolError(`refusing the header name ${JSON.stringify(name)}`);
    if (RESERVED.has(name.toLowerCase())) throw protocolError(`the connection sets ${name} itself`);
    if (!FIELD_VALUE.test(value)) {
      throw protocolError(
        `refusing the value of ${name}: it holds CR, LF, NUL, another control or non-latin1 character`,
      );
    }
  }
}

/**
 * Received bytes not yet consumed, kept as the chunks they came in: each byte is scanned
 * once and copied at most once, however the peer splits its writes.
 */
class ByteQueue {
  #chunks: Buffer[] = [];
  /** Consumed bytes at the front of the first chunk. */
  #offset = 0;
  #length = 0;
  /** Bytes from the front already searched for LF without finding one. */
  #scanned = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The line up to CRLF (not included) and consumed with it; undefined until it has arrived. */
  takeLine(limit: number, what: string): string | undefined {
    let seen = 0;
    let start = this.#offset;
    for (const chunk of this.#chunks) {
      const end = seen + chunk.length - start;
      if (end > this.#scanned) {
        const at = chunk.indexOf(LF, start + Math.max(0, this.#scanned - seen));
        if (at !== -1) {
          const lineLength = seen + (at - start);
          if (lineLength + 1 > limit) throw protocolError(`${what} is longer than ${limit} bytes`);
          const line = this.take(lineLength + 1);
          this.#scanned = 0;
          if (line.length < 2 || line[line.length - 2] !== CR) throw protocolError(`${what} does not end in CRLF`);
          return line.toString('latin1', 0, line.length - 2);
        }
      }
      seen = end;
      start = 0;
    }
    this.#scanned = this.#length;
    if (this.#length > limit) throw protocolError(`${what} is longer than ${limit} bytes`);
    return undefined;
  }

  /** Removes `n` bytes (at most `length`) and returns them as one buffer. */
  take(n: number): Buffer {
    const parts: Buffer[] = [];
    this.takeInto(n, parts);
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }

  /** Removes up to `n` bytes, appending views of them (no copy) to `into`; returns how many. */
  takeInto(n: number, into: Buffer[]): number {
    let taken = 0;
    while (taken < n && this.#chunks.length > 0) {
      const chunk = this.#chunks[0] as Buffer;
      const available = chunk.length - this.#offset;
      const count = Math.min(available, n - taken);
      into.push(chunk.subarray(this.#offset, this.#offset + count));
      taken += count;
      if (count === available) {
        this.#chunks.shift();
        this.#offset = 0;
      } else {
        this.#offset += count;
      }
    }
    this.#length -= taken;
    if (taken > 0) this.#scanned = 0;
    return taken;
  }

  clear(): void {
    this.#chunks = [];
    this.#offset = 0;
    this.#length = 0;
    this.#scanned = 0;
  }
}

/** Where the parser of one response is. */
type ParseState =
  | { at: 'status' }
  | { at: 'headers'; status: number; headers: Map<string, string>; headBytes: number }
  | { at: 'length'; remaining: number }
  | { at: 'chunk-size' }
  | { at: 'chunk-data'; remaining: number }
  | { at: 'chunk-end' }
  | { at: 'trailers'; bytes: number }
  | { at: 'until-close' };

interface Pending {
  resolve: (response: RawResponse) => void;
  reject: (error: Error) => void;
  state: ParseState;
  status: number;
  headers: Map<string, string>;
  body: Buffer[];
  bodyBytes: number;
}

/**
 * One keep-alive HTTP/1.1 connection with one request in flight at a time: all a Lambda
 * Runtime API client needs. It skips `node:http`'s generality (agents, pipelining, events
 * per chunk) on the per-invocation path, much as AWS's Node.js runtime client uses a native
 * HTTP client for the same reason. Bodies are `Content-Length`, chunked, or up to the close.
 *
 * It is strict where a lenient parser lets requests be smuggled: a request whose method,
 * path or headers could end a line is refused before a byte is written, and a response that
 * is malformed, too large, or cut short rejects the request and drops the connection (the
 * next request opens a new one). Nothing is thrown from a socket event.
 *
 * ```ts
 * const connection = new HttpConnection('127.0.0.1', 9001);
 * const res = await connection.request('GET', '/2018-06-01/runtime/invocation/next');
 * console.log(res.status, res.headers.get('lambda-runtime-aws-request-id'), res.body.length);
 * ```
 */
export class HttpConnection {
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | undefined;
  readonly #received = new ByteQueue();
  #pending: Pending | undefined;

  constructor(host: string, port: number) {
    if (!/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(host)) {
      throw new WasiLambdaError('INVALID_CONFIG', `the Runtime API host "${host}" is not a host name or IP address`);
    }
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new WasiLambdaError('INVALID_CONFIG', `the Runtime API port "${port}" is not a port number`);
    }
    this.#host = host;
    this.#port = port;
  }

  /**
   * Sends one request and resolves with the whole response. Rejects with a `WasiLambdaError`
   * (`INVALID_INPUT`) for a request it refuses to write or a response it cannot trust, and
   * with the socket's error if the connection fails.
   */
  request(method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<RawResponse> {
    try {
      checkRequest(method, path, headers);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#pending) return Promise.reject(protocolError('a request is already in flight on this connection'));
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${this.#host}:${this.#port}`, 'Connection: keep-alive'];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body) lines.push(`Content-Length: ${body.byteLength}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    const socket = this.#connect();
    return new Promise((resolve, reject) => {
      this.#pending = {
        resolve,
        reject,
        state: { at: 'status' },
        status: 0,
        headers: new Map(),
        body: [],
        bodyBytes: 0,
      };
      if (body && body.byteLength > 0) {
        socket.cork();
        socket.write(head);
        socket.write(body);
        socket.uncork();
      } else {
        socket.write(head);
      }
    });
  }

  /**
   * Opens the connection now rather than at the first request, so its handshake overlaps
   * whatever the caller does meanwhile. A connection that fails or closes before then is
   * opened again by `request`.
   */
  open(): void {
    this.#connect();
  }

  close(): void {
    this.#drop(this.#socket, protocolError('the connection was closed'));
  }

  #connect(): Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const socket = connect({ host: this.#host.replace(/^\[|\]$/g, ''), port: this.#port, noDelay: true });
    this.#received.clear();
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.#socket) return;
      this.#received.push(chunk);
      this.#parse(socket);
    });
    socket.on('error', (err) => this.#drop(socket, err));
    socket.on('close', () => {
      const pending = this.#pending;
      if (socket === this.#socket && pending?.state.at === 'until-close') {
        this.#received.takeInto(this.#received.length, pending.body);
        this.#settle(socket, undefined);
        return;
      }
      this.#drop(socket, protocolError('the peer closed the connection before the response was complete'));
    });
    this.#socket = socket;
    return socket;
  }

  /** Ends `socket` if it is the current one, rejecting the request in flight with `error`. */
  #drop(socket: Socket | undefined, error: Error): void {
    if (socket === undefined || socket !== this.#socket) return;
    this.#socket = undefined;
    this.#received.clear();
    socket.destroy();
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }

  #parse(socket: Socket): void {
    try {
      this.#advance(socket);
    } catch (err) {
      this.#drop(socket, err instanceof Error ? err : protocolError(String(err)));
    }
  }

  /** Consumes what has arrived; resolves the request when its response is complete. */
  #advance(socket: Socket): void {
    const queue = this.#received;
    for (;;) {
      const pending = this.#pending;
      if (!pending) {
        if (queue.length > 0) throw protocolError('the peer sent bytes no request asked for');
        return;
      }
      const state = pending.state;
      switch (state.at) {
        case 'status': {
          const line = queue.takeLine(MAX_HEAD_BYTES, 'the status line');
          if (line === undefined) return;
          const match = /^HTTP\/1\.[01] ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/.exec(line);
          if (!match) throw protocolError(`malformed status line ${JSON.stringify(line.slice(0, 80))}`);
          const status = Number(match[1]);
          if (status < 200) throw protocolError(`unexpected interim status ${status}`);
          pending.state = { at: 'headers', status, headers: new Map(), headBytes: line.length + 2 };
          break;
        }
        case 'headers': {
          const line = queue.takeLine(MAX_HEAD_BYTES - state.headBytes, 'the response head');
          if (line === undefined) return;
          state.headBytes += line.length + 2;
          if (line !== '') {
            state.headers.set(...headerField(line, state.headers));
            break;
          }
          pending.status = state.status;
          pending.headers = state.headers;
          pending.state = bodyState(state.status, state.headers);
          break;
        }
        case 'length': {
          state.remaining -= queue.takeInto(state.remaining, pending.body);
          if (state.remaining > 0) return;
          this.#settle(socket, pending);
          break;
        }
        case 'chunk-size': {
          const line = queue.takeLine(MAX_CHUNK_LINE_BYTES, 'a chunk-size line');
          if (line === undefined) return;
          const match = /^([0-9A-Fa-f]{1,8})[\t ]*(?:;[\t\x20-\x7e\x80-\xff]*)?$/.exec(line);
          if (!match) throw protocolError(`malformed chunk size ${JSON.stringify(line.slice(0, 40))}`);
          const size = Number.parseInt(match[1] as string, 16);
          if (pending.bodyBytes + size > MAX_BODY_BYTES)
            throw protocolError(`the chunked body exceeds ${MAX_BODY_BYTES} bytes`);
          pending.bodyBytes += size;
          pending.state = size === 0 ? { at: 'trailers', bytes: 0 } : { at: 'chunk-data', remaining: size };
          break;
        }
        case 'chunk-data': {
          state.remaining -= queue.takeInto(state.remaining, pending.body);
          if (state.remaining > 0) return;
          pending.state = { at: 'chunk-end' };
          break;
        }
        case 'chunk-end': {
          if (queue.length < 2) return;
          const end = queue.take(2);
          if (end[0] !== CR || end[1] !== LF) throw protocolError('a chunk is not followed by CRLF');
          pending.state = { at: 'chunk-size' };
          break;
        }
        case 'trailers': {
          const line = queue.takeLine(MAX_HEAD_BYTES - state.bytes, 'the trailers');
          if (line === undefined) return;
          state.bytes += line.length + 2;
          if (line === '') this.#settle(socket, pending);
          break;
        }
        case 'until-close': {
          if (pending.bodyBytes + queue.length > MAX_BODY_BYTES)
            throw protocolError(`the body exceeds ${MAX_BODY_BYTES} bytes`);
          pending.bodyBytes += queue.takeInto(queue.length, pending.body);
          return;
        }
      }
    }
  }

  #settle(socket: Socket, pending: Pending | undefined): void {
    const done = pending ?? this.#pending;
    if (!done) return;
    this.#pending = undefined;
    if (done.headers.get('connection')?.toLowerCase() === 'close' || done.state.at === 'until-close') {
      this.#socket = undefined;
      this.#received.clear();
      socket.destroy();
    }
    const body = done.body.length === 1 ? (done.body[0] as Buffer) : Buffer.concat(done.body);
    done.resolve({ status: done.status, headers: done.headers, body });
  }
}

/** One `name: value` header line, strictly: no folding, no space before the colon. */
function headerField(line: string, seen: Map<string, string>): [string, string] {
  const colon = line.indexOf(':');
  const name = colon > 0 ? line.slice(0, colon) : '';
  if (!TOKEN.test(name)) throw protocolError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
  const value = line.slice(colon + 1).replace(/^[\t ]+|[\t ]+$/g, '');
  const key = name.toLowerCase();
  const previous = seen.get(key);
  if (previous === undefined) return [key, value];
  if (key === 'content-length' || key === 'transfer-encoding') throw protocolError(`${name} is sent twice`);
  return [key, `${previous}, ${value}`];
}

/** How the body after these headers is delimited (RFC 9112 §6.3), refusing ambiguity. */
function bodyState(status: number, headers: Map<string, string>): ParseState {
  const encoding = headers.get('transfer-encoding');
  const length = headers.get('content-length');
  if (status === 204 || status === 304) return { at: 'length', remaining: 0 };
  if (encoding !== undefined) {
    if (length !== undefined) throw protocolError('both Transfer-Encoding and Content-Length are set');
    if (encoding.toLowerCase() !== 'chunked') throw protocolError(`unsupported Transfer-Encoding "${encoding}"`);
    return { at: 'chunk-size' };
  }
  if (length === undefined) return { at: 'until-close' };
  if (!/^\d{1,10}$/.test(length)) throw protocolError(`malformed Content-Length "${length.slice(0, 40)}"`);
  const bytes = Number(length);
  if (bytes > MAX_BODY_BYTES) throw protocolError(`the body of ${bytes} bytes exceeds ${MAX_BODY_BYTES} bytes`);
  return { at: 'length', remaining: bytes };
}
