import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeApiClient } from '../src/runtime/runtime-api-client.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

describe('RuntimeApiClient keeps guest-chosen strings out of HTTP headers', () => {
  const seen: Seen[] = [];
  let nextRequestId = 'a1b2c3d4-0000-4000-8000-000000000001';
  let address = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (req.url?.endsWith('/next')) {
        res.writeHead(200, { 'lambda-runtime-aws-request-id': nextRequestId, 'lambda-runtime-deadline-ms': 'soon' });
        res.end('{}');
        return;
      }
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end('{"status":"OK"}');
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it.each([
    ['CRLF', 'Boom\r\nContent-Length: 0\r\n\r\nGET /2018-06-01/runtime/invocation/next HTTP/1.1'],
    ['U+010D U+010A (CR LF in latin1)', 'Boom\u010d\u010aX-Injected: 1'],
    ['10 KB of text', 'E'.repeat(10 * 1024)],
    ['a Rust path', 'std::num::ParseIntError'],
  ])('an errorType with %s: one request, no error-type header, the body intact', async (_, errorType) => {
    const api = new RuntimeApiClient(address);
    const before = seen.length;
    const error = { errorType, errorMessage: 'it failed' };
    await api.fail('req-1', error);
    const requests = seen.slice(before);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe('/2018-06-01/runtime/invocation/req-1/error');
    expect(requests[0]?.headers).not.toHaveProperty('lambda-runtime-function-error-type');
    expect(requests[0]?.headers).not.toHaveProperty('x-injected');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual(error);
    // The connection is still in step: the next call gets its own answer.
    expect((await api.next()).requestId).toBe(nextRequestId);
  });

  it('sends a token errorType in the header, for init errors too', async () => {
    const api = new RuntimeApiClient(address);
    const before = seen.length;
    await api.fail('req-2', { errorType: 'Runtime.Panic', errorMessage: 'x' });
    await api.initError({ errorType: 'Runtime.ImportModuleError', errorMessage: 'y' });
    await api.initError({ errorType: 'bad\r\ntype', errorMessage: 'z' });
    const types = seen.slice(before).map((r) => r.headers['lambda-runtime-function-error-type']);
    expect(types).toEqual(['Runtime.Panic', 'Runtime.ImportModuleError', undefined]);
  });

  it('refuses a request id from /next that is not a token, instead of putting it in a path', async () => {
    const api = new RuntimeApiClient(address);
    for (const id of ['../../init/error', 'a b', 'x%2F..']) {
      nextRequestId = id;
      await expect(api.next()).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    nextRequestId = 'a1b2c3d4-0000-4000-8000-000000000002';
    const next = await api.next();
    expect(next.deadlineMs).toBe(0);
    await expect(api.respond('../init/error', Buffer.from('{}'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refuses an AWS_LAMBDA_RUNTIME_API that is not host:port', () => {
    for (const bad of ['localhost', 'localhost:', 'host:80:90', 'ho st:80', 'host:99999', 'host:8x']) {
      expect(() => new RuntimeApiClient(bad)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    }
  });
});

describe('RuntimeApiClient.preconnect', () => {
  it('opens the connection before the first call, and that call uses it', async () => {
    const connections: number[] = [];
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'lambda-runtime-aws-request-id': 'req-1', 'lambda-runtime-deadline-ms': '1' });
        res.end('{"n":1}');
      });
    });
    server.on('connection', () => connections.push(performance.now()));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const api = new RuntimeApiClient(`127.0.0.1:${(server.address() as AddressInfo).port}`);
      api.preconnect();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(connections).toHaveLength(1);
      const next = await api.next();
      expect(next.event.toString()).toBe('{"n":1}');
      expect(connections).toHaveLength(1);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a connection refused ahead of time is not an error until a call makes it one', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const api = new RuntimeApiClient(`127.0.0.1:${port}`);
    api.preconnect();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(api.next()).rejects.toThrow(/ECONNREFUSED/);
  });
});
