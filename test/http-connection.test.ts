import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpConnection } from '../src/runtime/http-connection.js';

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
