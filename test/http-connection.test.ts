import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpConnection, MAX_BODY_BYTES, MAX_HEAD_BYTES } from '../src/runtime/http-connection.js';

describe('HttpConnection (the runtime client’s keep-alive HTTP/1.1)', () => {
  let server: Server;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/chunked') {
          res.writeHead(200, { 'x-kind': 'chunked' });
          res.write('first,');
          setTimeout(() => res.end('second'), 5);
          return;
        }
        res.writeHead(req.method === 'POST' ? 202 : 200, {
          'content-type': 'application/json',
          'X-Echo-Len': String(body.length),
        });
        res.end(req.method === 'POST' ? body : Buffer.from(`{"path":"${req.url}"}`));
      });
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reuses one connection for sequential requests and reads Content-Length bodies', async () => {
    const connection = new HttpConnection('127.0.0.1', port);
    const before = connections;
    for (let i = 0; i < 20; i++) {
      const res = await connection.request('GET', `/n/${i}`);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe(`{"path":"/n/${i}"}`);
      expect(res.headers.get('content-type')).toBe('application/json');
    }
    expect(connections - before).toBe(1);
    connection.close();
  });

  it('sends bodies byte for byte, including large binary ones', async () => {
    const connection = new HttpConnection('127.0.0.1', port);
    const body = Buffer.alloc(3 * 1024 * 1024, 0xab);
    const res = await connection.request('POST', '/big', body);
    expect(res.status).toBe(202);
    expect(res.headers.get('x-echo-len')).toBe(String(body.length));
    expect(res.body.equals(body)).toBe(true);
    connection.close();
  });

  it('decodes chunked responses that arrive in pieces', async () => {
    const connection = new HttpConnection('127.0.0.1', port);
    const res = await connection.request('GET', '/chunked');
    expect(res.body.toString()).toBe('first,second');
    expect((await connection.request('GET', '/after')).body.toString()).toBe('{"path":"/after"}');
    connection.close();
  });

  it('reconnects when the server closed the idle keep-alive connection', async () => {
    const connection = new HttpConnection('127.0.0.1', port);
    await connection.request('GET', '/warm');
    server.closeAllConnections();
    await new Promise((r) => setTimeout(r, 20));
    const res = await connection.request('GET', '/again');
    expect(res.status).toBe(200);
    connection.close();
  });
});

/**
 * A loopback server speaking raw TCP, so responses can be as broken as a hostile peer makes
 * them. `answer` gets each request's head and writes whatever it likes.
 */
async function rawServer(answer: (socket: Socket, head: string) => void): Promise<{
  port: number;
  connections: () => number;
  requests: string[];
  close: () => void;
}> {
  const requests: string[] = [];
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        requests.push(head);
        answer(socket, head);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    requests,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

/** Writes `bytes` one write at a time, each on its own turn of the event loop. */
async function dribble(socket: Socket, bytes: Buffer, size: number): Promise<void> {
  for (let i = 0; i < bytes.length; i += size) {
    socket.write(bytes.subarray(i, i + size));
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function chunked(body: Buffer, chunkSize: number): Buffer {
  const parts: Buffer[] = [Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')];
  for (let i = 0; i < body.length; i += chunkSize) {
    const piece = body.subarray(i, i + chunkSize);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

describe('HttpConnection against a hostile peer', () => {
  it('refuses header values and paths that could smuggle a request, before writing anything', async () => {
    const peer = await rawServer((socket) => socket.write(OK));
    const connection = new HttpConnection('127.0.0.1', peer.port);
    const refused = [
      connection.request('POST', '/x', Buffer.from('{}'), {
        'x-type': 'A\r\nContent-Length: 0\r\n\r\nGET /y HTTP/1.1',
      }),
      connection.request('POST', '/x', Buffer.from('{}'), { 'x-type': 'A\u010d\u010aB' }),
      connection.request('POST', '/x', Buffer.from('{}'), { 'x-type': 'nul\u0000' }),
      connection.request('POST', '/x', Buffer.from('{}'), { 'bad name': 'v' }),
      connection.request('POST', '/x', Buffer.from('{}'), { 'content-length': '0' }),
      connection.request('GET', '/a b'),
      connection.request('GET', '/a/../b'),
      connection.request('GET', '/a/%2e%2E/b'),
      connection.request('GET', '/a//b'),
      connection.request('GET', '/a?next'),
      connection.request('GET', '/a\r\nX: y'),
      connection.request('GET', 'http://elsewhere/'),
      connection.request('GET /x HTTP/1.1\r\n', '/'),
    ];
    for (const attempt of refused) {
      await expect(attempt).rejects.toMatchObject({ name: 'WasiLambdaError', code: 'INVALID_INPUT' });
    }
    expect((await connection.request('GET', '/fine')).body.toString()).toBe('ok');
    expect(peer.requests).toHaveLength(1);
    expect(peer.requests[0]).toMatch(/^GET \/fine HTTP\/1\.1\r\n/);
    connection.close();
    peer.close();
  });

  it.each([
    ['garbage instead of a status line', 'NOT HTTP AT ALL\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 0\r\n\r\n'],
    ['a bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n'],
    [
      'Content-Length and Transfer-Encoding together',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['two Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nok'],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['a chunk size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n'],
    ['a chunk not followed by CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n'],
    ['headers larger than 64 KB', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(MAX_HEAD_BYTES)}\r\n\r\n`],
    ['a body announced larger than 32 MB', `HTTP/1.1 200 OK\r\nContent-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n`],
  ])('%s rejects the request with a typed error; the next request opens a new connection', async (_, reply) => {
    let first = true;
    const peer = await rawServer((socket) => {
      socket.write(first ? reply : OK);
      first = false;
    });
    const connection = new HttpConnection('127.0.0.1', peer.port);
    await expect(connection.request('GET', '/next')).rejects.toMatchObject({
      name: 'WasiLambdaError',
      code: 'INVALID_INPUT',
      message: expect.stringMatching(/^Runtime API: /),
    });
    const again = await connection.request('GET', '/next');
    expect(again.body.toString()).toBe('ok');
    expect(peer.connections()).toBe(2);
    connection.close();
    peer.close();
  });

  it('drops the connection when the peer sends bytes no request asked for', async () => {
    const peer = await rawServer((socket) => socket.write(`${OK}HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nextra`));
    const connection = new HttpConnection('127.0.0.1', peer.port);
    expect((await connection.request('GET', '/one')).body.toString()).toBe('ok');
    expect((await connection.request('GET', '/two')).body.toString()).toBe('ok');
    expect(peer.connections()).toBe(2);
    connection.close();
    peer.close();
  });

  it('decodes a chunked body (with extensions and trailers) written one byte at a time', async () => {
    const body = Buffer.from('{"message":"één, twee"}');
    const reply = Buffer.concat([chunked(body, 5).subarray(0, -5), Buffer.from('0;ext=1\r\nX-Trailer: yes\r\n\r\n')]);
    const peer = await rawServer((socket) => void dribble(socket, reply, 1));
    const connection = new HttpConnection('127.0.0.1', peer.port);
    const res = await connection.request('GET', '/next');
    expect(res.status).toBe(200);
    expect(res.body.equals(body)).toBe(true);
    expect(peer.connections()).toBe(1);
    connection.close();
    peer.close();
  });

  it('reads a 10 MB chunked body in time linear in its size', async () => {
    // Before, every arriving piece re-joined everything received so far: 10× the bytes took
    // ~100× the time. Now each byte is copied once.
    const timeFor = async (bytes: number) => {
      const reply = chunked(Buffer.alloc(bytes, 0x61), 1024);
      const peer = await rawServer((socket) => void dribble(socket, reply, 16 * 1024));
      const connection = new HttpConnection('127.0.0.1', peer.port);
      const started = performance.now();
      const res = await connection.request('GET', '/next');
      const ms = performance.now() - started;
      expect(res.body.length).toBe(bytes);
      connection.close();
      peer.close();
      return ms;
    };
    await timeFor(1024 * 1024);
    const small = Math.min(await timeFor(1024 * 1024), await timeFor(1024 * 1024));
    const large = await timeFor(10 * 1024 * 1024);
    expect(large / Math.max(small, 5)).toBeLessThan(30);
  }, 30_000);

  it('a connection reset mid-response rejects the request; the next one reconnects', async () => {
    let first = true;
    const peer = await rawServer((socket) => {
      if (!first) {
        socket.write(OK);
        return;
      }
      first = false;
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    const connection = new HttpConnection('127.0.0.1', peer.port);
    await expect(connection.request('GET', '/next')).rejects.toThrow(/ECONNRESET|closed the connection/);
    expect((await connection.request('GET', '/next')).body.toString()).toBe('ok');
    connection.close();
    peer.close();
  });

  it('a close before the body is complete rejects; a body delimited by the close is read whole', async () => {
    let calls = 0;
    const peer = await rawServer((socket) => {
      calls += 1;
      if (calls === 1) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
      else socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the close');
    });
    const connection = new HttpConnection('127.0.0.1', peer.port);
    await expect(connection.request('GET', '/next')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect((await connection.request('GET', '/next')).body.toString()).toBe('until the close');
    connection.close();
    peer.close();
  });
});
