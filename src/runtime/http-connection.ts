import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Map<string, string>;
  body: Buffer;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection with one request in flight at a time: all a Lambda
 * Runtime API client needs. It skips `node:http`'s generality (agents, pipelining, events
 * per chunk) on the per-invocation path, much as AWS's Node.js runtime client uses a native
 * HTTP client for the same reason. Bodies are `Content-Length` or chunked.
 */
export class HttpConnection {
  readonly #host: string;
  readonly #port: number;
  #socket: Socket | undefined;
  /** Bytes received and not yet consumed, kept as chunks until there is enough to parse. */
  #chunks: Buffer[] = [];
  #pending = 0;
  /** Once the headers announce the length, no parsing (or copying) is tried before it all came. */
  #expected = 0;
  #waiting: { resolve: (r: RawResponse) => void; reject: (e: Error) => void } | undefined;

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  request(method: string, path: string, body?: Uint8Array, headers: Record<string, string> = {}): Promise<RawResponse> {
    const socket = this.#connect();
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${this.#host}:${this.#port}`, 'Connection: keep-alive'];
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
    if (body) lines.push(`Content-Length: ${body.byteLength}`);
    const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
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

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #connect(): Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true });
    socket.on('data', (chunk: Buffer) => {
      this.#chunks.push(chunk);
      this.#pending += chunk.length;
      if (this.#pending >= this.#expected) this.#parse();
    });
    const fail = (err: Error) => {
      this.#socket = undefined;
      this.#chunks = [];
      this.#pending = 0;
      this.#expected = 0;
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the Runtime API closed the connection')));
    this.#socket = socket;
    return socket;
  }

  #parse(): void {
    if (!this.#waiting) return;
    // A 6 MB event arrives in ~100 chunks: joined once here, not once per chunk.
    const buffer = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks, this.#pending);
    this.#chunks = [buffer];
    const end = buffer.indexOf(CRLF2);
    if (end === -1) return;
    const [statusLine = '', ...headerLines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
    const headers = new Map<string, string>();
    for (const line of headerLines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const start = end + 4;
    let body: Buffer;
    let consumed: number;
    if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const decoded = decodeChunked(buffer, start);
      if (!decoded) return;
      ({ body, consumed } = decoded);
    } else {
      const length = Number(headers.get('content-length') ?? 0);
      if (buffer.length < start + length) {
        this.#expected = start + length;
        return;
      }
      body = buffer.subarray(start, start + length);
      consumed = start + length;
    }
    const rest = buffer.subarray(consumed);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#pending = rest.length;
    this.#expected = 0;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting.resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
  }
}

/** Decodes a complete chunked body, or returns undefined if more bytes are needed. */
function decodeChunked(buffer: Buffer, start: number): { body: Buffer; consumed: number } | undefined {
  const parts: Buffer[] = [];
  let pos = start;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', pos, 'latin1');
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(buffer.subarray(pos, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('malformed chunked response from the Runtime API');
    const dataStart = lineEnd + 2;
    if (size === 0) {
      // The last chunk, then either an empty line or trailers ending in an empty line.
      if (buffer.length < dataStart + 2) return undefined;
      if (buffer.indexOf('\r\n', dataStart, 'latin1') === dataStart)
        return { body: Buffer.concat(parts), consumed: dataStart + 2 };
      const trailersEnd = buffer.indexOf(CRLF2, dataStart);
      return trailersEnd === -1 ? undefined : { body: Buffer.concat(parts), consumed: trailersEnd + 4 };
    }
    if (buffer.length < dataStart + size + 2) return undefined;
    parts.push(buffer.subarray(dataStart, dataStart + size));
    pos = dataStart + size + 2;
  }
}
