import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, BlockList, createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WasiLambdaError } from '../src/errors.js';
import { hostConfig, parseAllowHosts } from '../src/lambda/host-config.js';
import { invokeLocal } from '../src/local/invoke-local.js';
import { MAX_IDLE_SOCKETS, OutboundClient, type OutboundClientOptions } from '../src/outbound/client.js';
import { checkEgress } from '../src/outbound/egress-check.js';
import { grantsHost, parseEgressPolicy, parseGrant } from '../src/outbound/egress-policy.js';
import type { OutboundResult } from '../src/outbound/outbound-result.js';
import { requestHeaders } from '../src/outbound/request-headers.js';
import { specialAddressClass } from '../src/outbound/special-addresses.js';

const execFileAsync = promisify(execFile);

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A real server on loopback that counts the TCP connections it accepted. */
interface TestServer {
  port: number;
  connections: number;
  requests: number;
  sockets: Socket[];
  close(): Promise<void>;
}

async function listen(server: Server, counters: TestServer, host = '127.0.0.1'): Promise<TestServer> {
  server.on('connection', (socket: Socket) => {
    counters.connections += 1;
    counters.sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  counters.port = (server.address() as AddressInfo).port;
  counters.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of counters.sockets) socket.destroy();
      server.close(() => resolve());
    });
  return counters;
}

function fresh(): TestServer {
  return { port: 0, connections: 0, requests: 0, sockets: [], close: async () => {} };
}

const servers: TestServer[] = [];
const clients: OutboundClient[] = [];

async function serve(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const counters = fresh();
  const counted: Handler = (req, res) => {
    counters.requests += 1;
    handler(req, res);
  };
  const server = tls ? createHttpsServer(tls, counted) : createHttpServer(counted);
  servers.push(await listen(server, counters));
  return counters;
}

/** A TCP server that answers every connection with `onSocket` (for non-HTTP misbehaviour). */
async function serveRaw(onSocket: (socket: Socket) => void): Promise<TestServer> {
  const counters = fresh();
  const server = createNetServer(onSocket);
  servers.push(await listen(server, counters));
  return counters;
}

function client(grants: string[], options: Partial<OutboundClientOptions> = {}): OutboundClient {
  const c = new OutboundClient({ policy: parseEgressPolicy(grants, 'test'), ...options });
  clients.push(c);
  return c;
}

const soon = (ms = 3_000) => ({ deadlineMs: Date.now() + ms });
const text = (result: OutboundResult) => (result.ok ? Buffer.from(result.body).toString() : `${result.code}`);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('egress policy: parsing a grant list', () => {
  it.each([
    ['api.example.com', { kind: 'name', host: 'api.example.com', ports: [80, 443] }],
    ['API.Example.COM:8443', { kind: 'name', host: 'api.example.com', ports: [8443] }],
    ['api.example.com.', { kind: 'name', host: 'api.example.com', ports: [80, 443] }],
    ['bücher.example', { kind: 'name', host: 'xn--bcher-kva.example', ports: [80, 443] }],
    ['*.example.com', { kind: 'suffix', suffix: 'example.com', ports: [80, 443] }],
    ['*.example.com:9443', { kind: 'suffix', suffix: 'example.com', ports: [9443] }],
    ['127.0.0.1:9000', { kind: 'address', address: '127.0.0.1', ports: [9000] }],
    ['10.0.0.5', { kind: 'address', address: '10.0.0.5', ports: [80, 443] }],
    ['[::1]:9000', { kind: 'address', address: '::1', ports: [9000] }],
    ['[FD00:EC2::254]', { kind: 'address', address: 'fd00:ec2::254', ports: [80, 443] }],
    ['::1', { kind: 'address', address: '::1', ports: [80, 443] }],
  ])('%s', (entry, grant) => {
    expect(parseGrant(entry, 'WASI_LAMBDA_ALLOW_HOSTS')).toEqual(grant);
  });

  it.each([
    ['', 'it is empty'],
    ['https://api.example.com', 'not a URL'],
    ['api.example.com/v1', 'not a URL'],
    ['user@api.example.com', 'not a URL'],
    ['api example.com', 'not a URL'],
    ['api.example.com:', 'is not a port'],
    ['api.example.com:0', 'is not a port'],
    ['api.example.com:65536', 'is not a port'],
    ['api.example.com:https', 'is not a port'],
    ['*', 'would grant every host'],
    ['*.com', 'a whole top-level domain'],
    ['api.*.com', 'only allowed as a leading'],
    ['*api.example.com', 'only allowed as a leading'],
    ['*.10.0.0.1', 'names, not IP addresses'],
    ['127.1', 'write the address as 127.0.0.1'],
    ['0x7f000001:80', 'write the address as 127.0.0.1'],
    ['[::1', 'never closed'],
    ['[::1]9000', 'only :port may follow'],
    ['[fe80::1%eth0]', 'not a host name or IP address'],
    ['[api.example.com]:443', 'brackets hold an IPv6 address'],
    ['exa..mple.com', 'not a host name or IP address'],
    ['-bad-.example.com', 'not a host name or IP address'],
  ])('%j is refused: %s', (entry, why) => {
    let error: unknown;
    try {
      parseGrant(entry, 'WASI_LAMBDA_ALLOW_HOSTS');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WasiLambdaError);
    expect((error as WasiLambdaError).code).toBe('INVALID_CONFIG');
    expect((error as Error).message).toContain(`WASI_LAMBDA_ALLOW_HOSTS entry "${entry}" is not valid`);
    expect((error as Error).message).toContain(why);
    // Every refusal shows what a valid entry looks like.
    expect((error as Error).message).toContain('api.example.com:8443, *.example.com');
  });

  it('matches names exactly, wildcards below the apex only, bare hosts on 80 and 443 only', () => {
    const policy = parseEgressPolicy(['api.example.com', '*.corp.example', 'db.example.com:5984'], 'test');
    expect(grantsHost(policy, 'api.example.com', 443)).toBe(true);
    expect(grantsHost(policy, 'api.example.com', 80)).toBe(true);
    expect(grantsHost(policy, 'api.example.com', 8080)).toBe(false);
    expect(grantsHost(policy, 'www.api.example.com', 443)).toBe(false);
    expect(grantsHost(policy, 'a.corp.example', 443)).toBe(true);
    expect(grantsHost(policy, 'a.b.corp.example', 443)).toBe(true);
    expect(grantsHost(policy, 'corp.example', 443)).toBe(false);
    expect(grantsHost(policy, 'evilcorp.example', 443)).toBe(false);
    expect(grantsHost(policy, 'db.example.com', 5984)).toBe(true);
    expect(grantsHost(policy, 'db.example.com', 443)).toBe(false);
  });

  it('WASI_LAMBDA_ALLOW_HOSTS: comma-separated, spaces trimmed, unset grants nothing', () => {
    expect(parseAllowHosts({}).grants).toEqual([]);
    expect(parseAllowHosts({ WASI_LAMBDA_ALLOW_HOSTS: ' , ' }).grants).toEqual([]);
    expect(parseAllowHosts({ WASI_LAMBDA_ALLOW_HOSTS: 'api.example.com, *.example.org:8443' }).grants).toEqual([
      { kind: 'name', host: 'api.example.com', ports: [80, 443] },
      { kind: 'suffix', suffix: 'example.org', ports: [8443] },
    ]);
    expect(() => parseAllowHosts({ WASI_LAMBDA_ALLOW_HOSTS: 'api.example.com,http://x' })).toThrow(
      /WASI_LAMBDA_ALLOW_HOSTS entry "http:\/\/x" is not valid/,
    );
    const config = hostConfig({ WASI_LAMBDA_ALLOW_HOSTS: '10.0.0.5:9000' }, 'file:///var/task/handler.mjs');
    expect(config.allowHosts.grants).toEqual([{ kind: 'address', address: '10.0.0.5', ports: [9000] }]);
  });

  it('invoke --allow-host: a malformed grant fails before anything is built', async () => {
    await expect(
      invokeLocal({ handler: 'no-such-handler', event: new Uint8Array(), allowHosts: ['api.example.com:99999'] }),
    ).rejects.toThrow(/--allow-host entry "api.example.com:99999" is not valid/);
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['169.254.170.2', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a00:1', 'private'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['::127.0.0.1', 'reserved'],
    ['93.184.216.34', undefined],
    ['172.32.0.1', undefined],
    ['100.128.0.1', undefined],
    ['2606:4700::1111', undefined],
    ['::ffff:93.184.216.34', undefined],
  ])('%s is %s', (address, kind) => {
    expect(specialAddressClass(address)).toBe(kind);
  });
});

describe('hostile input to the policy', () => {
  it('any string as a grant is either a grant or INVALID_CONFIG, never another exception', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[[\]*.:0-9a-f%@/ ]{0,20}$/)), (entry) => {
        try {
          const grant = parseGrant(entry, 'fuzz');
          expect(['name', 'suffix', 'address']).toContain(grant.kind);
          expect(grant.ports.every((port) => Number.isInteger(port) && port >= 1 && port <= 65_535)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(WasiLambdaError);
          expect((err as WasiLambdaError).code).toBe('INVALID_CONFIG');
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('a header named __proto__ or constructor is an ordinary header (found by the property below)', () => {
    const url = new URL('https://api.example.com/');
    const result = requestHeaders(
      [
        ['__proto__', 'a'],
        ['__proto__', 'b'],
        ['constructor', 'c'],
      ],
      url,
      undefined,
    );
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    expect(Object.getOwnPropertyDescriptor(result.headers, '__proto__')?.value).toEqual(['a', 'b']);
    expect(Object.getOwnPropertyDescriptor(result.headers, 'constructor')?.value).toEqual(['c']);
  });

  it('any header list is refused or yields headers Node will send as given (no CR/LF reaches the wire)', () => {
    const url = new URL('https://api.example.com/');
    const header = fc.tuple(
      fc.oneof(fc.constantFrom('host', 'connection', 'content-length', 'x-a', 'Proxy-X'), fc.string()),
      fc.oneof(fc.string(), fc.constantFrom('api.example.com', 'api.example.com:443', '0', 'x-a', 'a\r\nb: c')),
    );
    fc.assert(
      fc.property(fc.array(header, { maxLength: 6 }), (headers) => {
        const result = requestHeaders(headers, url, undefined);
        if (!result.ok) {
          expect(result.code).toBe('InvalidRequest');
          return;
        }
        expect(result.headers.host).toBe('api.example.com');
        for (const [name, value] of Object.entries(result.headers)) {
          validateHeaderName(name);
          for (const one of [value].flat()) {
            validateHeaderValue(name, one);
            expect(one).not.toMatch(/[\r\n\0]/);
          }
          expect(['connection', 'upgrade', 'transfer-encoding']).not.toContain(name);
          expect(name.startsWith('proxy-')).toBe(false);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('IPv4 classification agrees with net.BlockList, and IPv4-mapped forms with their IPv4 address', () => {
    const blocked = new BlockList();
    for (const [prefix, bits] of [
      ['0.0.0.0', 8],
      ['10.0.0.0', 8],
      ['100.64.0.0', 10],
      ['127.0.0.0', 8],
      ['169.254.0.0', 16],
      ['172.16.0.0', 12],
      ['192.168.0.0', 16],
      ['224.0.0.0', 4],
      ['240.0.0.0', 4],
    ] as const) {
      blocked.addSubnet(prefix, bits, 'ipv4');
    }
    fc.assert(
      fc.property(fc.ipV4(), (address) => {
        const special = specialAddressClass(address) !== undefined;
        expect(special).toBe(blocked.check(address, 'ipv4'));
        expect(specialAddressClass(`::ffff:${address}`)).toBe(specialAddressClass(address));
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('egress check: DNS and every resolved address', () => {
  const policy = parseEgressPolicy(['api.example.com', 'mixed.example.com', 'inside.example.com:8080'], 'test');

  it('a name resolving to a private address is refused unless that address is granted', async () => {
    const resolve = async () => [{ address: '10.0.0.7', family: 4 }];
    const denied = await checkEgress('http://inside.example.com:8080/', policy, resolve);
    expect(denied).toMatchObject({ ok: false, code: 'EgressDenied' });
    expect((denied as { message: string }).message).toContain('resolves to 10.0.0.7, a private address');
    expect((denied as { message: string }).message).toContain('add "10.0.0.7:8080" to WASI_LAMBDA_ALLOW_HOSTS');
    const granted = parseEgressPolicy(['inside.example.com:8080', '10.0.0.7:8080'], 'test');
    expect(await checkEgress('http://inside.example.com:8080/', granted, resolve)).toMatchObject({
      address: '10.0.0.7',
      port: 8080,
    });
  });

  it('one special address among public ones is enough to refuse (every address is checked)', async () => {
    const resolve = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '::ffff:169.254.169.254', family: 6 },
    ];
    const result = await checkEgress('https://mixed.example.com/', policy, resolve);
    expect(result).toMatchObject({ code: 'EgressDenied' });
    expect((result as { message: string }).message).toContain('a link-local address');
  });

  it('the URL is checked first: scheme, userinfo, port; then DNS errors are DnsError', async () => {
    const never = async () => {
      throw new Error('the resolver must not be asked');
    };
    expect(await checkEgress('ftp://api.example.com/', policy, never)).toMatchObject({ code: 'InvalidRequest' });
    expect(await checkEgress('https://u:p@api.example.com/', policy, never)).toMatchObject({
      code: 'InvalidRequest',
    });
    expect(await checkEgress('https://api.example.com:0/', policy, never)).toMatchObject({ code: 'InvalidRequest' });
    expect(await checkEgress('not a url', policy, never)).toMatchObject({ code: 'InvalidRequest' });
    expect(await checkEgress('https://other.example.com/', policy, never)).toMatchObject({ code: 'EgressDenied' });
    const missing = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await checkEgress('https://api.example.com/', policy, missing)).toEqual({
      ok: false,
      code: 'DnsError',
      message: 'api.example.com did not resolve (ENOTFOUND)',
    });
  });

  it('IP literals in any spelling are judged as the address they are', async () => {
    const never = async () => [];
    // 0x7f.1 is 127.0.0.1 to the URL parser and to the socket: it needs the 127.0.0.1 grant.
    const loopback = parseEgressPolicy(['127.0.0.1:9000'], 'test');
    expect(await checkEgress('http://0x7f.1:9000/', loopback, never)).toMatchObject({ address: '127.0.0.1' });
    expect(await checkEgress('http://0x7f.1:9001/', loopback, never)).toMatchObject({ code: 'EgressDenied' });
    expect(await checkEgress('http://[::ffff:127.0.0.1]:9000/', loopback, never)).toMatchObject({
      code: 'EgressDenied',
    });
  });
});

describe('OutboundClient against real servers on loopback', () => {
  it('a host that is not granted is refused before a byte leaves, with a log line', async () => {
    const server = await serve((_req, res) => res.end('should not be reached'));
    const logged: string[] = [];
    const c = client(['api.example.com'], { onDenied: (line) => logged.push(line) });
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/` }, soon());
    expect(result).toEqual({
      ok: false,
      code: 'EgressDenied',
      message: `egress to 127.0.0.1:${server.port} is not granted; add "127.0.0.1:${server.port}" to WASI_LAMBDA_ALLOW_HOSTS`,
    });
    expect(logged).toEqual([(result as { message: string }).message]);
    expect(server.connections).toBe(0);
  });

  it('a log callback that throws does not turn a refusal into a rejection; a far deadline is no timeout', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    const c = client([`127.0.0.1:${server.port}`], {
      onDenied: () => {
        throw new Error('log sink broken');
      },
    });
    expect(await c.send({ method: 'GET', url: 'http://169.254.169.254/latest/meta-data/' }, soon())).toMatchObject({
      code: 'EgressDenied',
    });
    const far = { deadlineMs: Number.POSITIVE_INFINITY };
    expect(text(await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/` }, far))).toBe('ok');
  });

  it('localhost granted by name only is refused: it resolves to loopback', async () => {
    const server = await serve((_req, res) => res.end('should not be reached'));
    const c = client([`localhost:${server.port}`]);
    const result = await c.send({ method: 'GET', url: `http://localhost:${server.port}/` }, soon());
    expect(result).toMatchObject({ ok: false, code: 'EgressDenied' });
    expect((result as { message: string }).message).toMatch(/resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(server.connections).toBe(0);
  });

  it('granted by address: GET, and POST with a body, headers as sent', async () => {
    const server = await serve(async (req, res) => {
      const body = await readBody(req);
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: body.toString() }));
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const get = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/items?id=7#frag` }, soon());
    expect(get.ok && get.status).toBe(200);
    expect(JSON.parse(text(get))).toMatchObject({ method: 'GET', url: '/items?id=7' });

    const post = await c.send(
      {
        method: 'POST',
        url: `http://127.0.0.1:${server.port}/items`,
        headers: [
          ['Content-Type', 'text/plain'],
          ['X-Trace', 'abc'],
          ['Connection', 'close, x-secret'],
          ['X-Secret', 'dropped, because connection lists it'],
          ['Upgrade', 'websocket'],
          ['Proxy-Authorization', 'Basic eA=='],
          ['Transfer-Encoding', 'chunked'],
          ['Host', `127.0.0.1:${server.port}`],
        ],
        body: new TextEncoder().encode('hello, server'),
      },
      soon(),
    );
    expect(post.ok).toBe(true);
    const echoed = JSON.parse(text(post));
    expect(echoed.body).toBe('hello, server');
    expect(echoed.headers).toMatchObject({
      host: `127.0.0.1:${server.port}`,
      'content-type': 'text/plain',
      'x-trace': 'abc',
      'content-length': '13',
    });
    for (const hop of ['upgrade', 'proxy-authorization', 'transfer-encoding', 'x-secret']) {
      expect(echoed.headers).not.toHaveProperty(hop);
    }
    // The guest's `connection: close` is the host's business: the connection stayed open.
    expect(server.connections).toBe(1);
    // Response headers: lower case, repeats kept in order.
    expect(post.ok && post.headers.filter(([name]) => name === 'set-cookie')).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
    ]);
  });

  it.each([
    ['a CR LF in a header value', { headers: [['x-a', 'v\r\nx-injected: 1']] as [string, string][] }, 'CR, LF'],
    ['a NUL in a header value', { headers: [['x-a', 'v\0']] as [string, string][] }, 'cannot carry'],
    ['a character above U+00FF', { headers: [['x-a', 'price: 5 €']] as [string, string][] }, 'cannot carry'],
    ['a header name that is not a token', { headers: [['x a', 'v']] as [string, string][] }, 'header name'],
    ['a host header naming another host', { headers: [['host', 'metadata.internal']] as [string, string][] }, 'host'],
    ['a content-length other than the body', { headers: [['content-length', '999']] as [string, string][] }, '999'],
    ['a method that is not a token', { method: 'GET /x' }, 'method'],
    ['CONNECT', { method: 'CONNECT' }, 'CONNECT'],
    ['a body over 6 MB', { method: 'POST', body: new Uint8Array(6 * 1024 * 1024 + 1) }, 'at most 6291456'],
    ['a negative timeout', { timeoutMs: -1 }, 'timeoutMs'],
  ])('refuses %s as InvalidRequest before connecting', async (_what, overrides, fragment) => {
    const server = await serve((_req, res) => res.end('no'));
    const c = client([`127.0.0.1:${server.port}`]);
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/`, ...overrides }, soon());
    expect(result).toMatchObject({ ok: false, code: 'InvalidRequest' });
    expect((result as { message: string }).message).toContain(fragment);
    expect(server.connections).toBe(0);
  });

  it('a chunked response written in many small pieces arrives whole', async () => {
    const server = await serve((_req, res) => {
      let i = 0;
      const next = () => {
        if (i === 500) {
          res.end();
          return;
        }
        res.write(`${String(i).padStart(4, '0')},`);
        i += 1;
        setImmediate(next);
      };
      next();
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/` }, soon());
    const expected = Array.from({ length: 500 }, (_, i) => `${String(i).padStart(4, '0')},`).join('');
    expect(text(result)).toBe(expected);
    // The body arrived de-chunked, so the header that said otherwise is not passed on.
    expect(result.ok && result.headers.some(([name]) => name === 'transfer-encoding')).toBe(false);
  });

  it('gzip stays bytes: the body is exactly what the server sent', async () => {
    const gz = gzipSync(Buffer.from('compressed payload'));
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gz);
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const result = await c.send(
      { method: 'GET', url: `http://127.0.0.1:${server.port}/`, headers: [['accept-encoding', 'gzip']] },
      soon(),
    );
    expect(result.ok && Buffer.from(result.body).equals(gz)).toBe(true);
  });

  it('a 302 is returned with its location, never followed', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/target' });
        res.end();
        return;
      }
      res.end('target');
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/moved` }, soon());
    expect(result.ok && result.status).toBe(302);
    expect(result.ok && result.headers).toContainEqual(['location', '/target']);
    expect(server.requests).toBe(1);
  });

  it('HEAD declares a length and sends no body: an empty body; GET sends the declared bytes exactly', async () => {
    const body = Buffer.from('x'.repeat(70_000));
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const url = `http://127.0.0.1:${server.port}/`;
    const head = await c.send({ method: 'HEAD', url }, soon());
    expect(head.ok && head.body).toEqual(new Uint8Array());
    expect(head.ok && head.headers).toContainEqual(['content-length', String(body.length)]);
    const get = await c.send({ method: 'GET', url }, soon());
    expect(get.ok && Buffer.from(get.body).equals(body)).toBe(true);
  });

  it('a cancelled call (SendOptions.signal) is Cancelled at once, and the server sees its connection close', async () => {
    let closed = false;
    const server = await serve((_req, res) => {
      res.on('close', () => {
        closed = true;
      });
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const cancel = new AbortController();
    const pending = c.send(
      { method: 'GET', url: `http://127.0.0.1:${server.port}/` },
      { ...soon(5000), signal: cancel.signal },
    );
    await new Promise((done) => setTimeout(done, 100));
    const started = Date.now();
    cancel.abort();
    expect(await pending).toMatchObject({ ok: false, code: 'Cancelled' });
    expect(Date.now() - started).toBeLessThan(100);
    await new Promise((done) => setTimeout(done, 100));
    expect(closed).toBe(true);
  });

  it('response bodies draw on a shared ByteBudget: past it, ResponseTooLarge, and a failure gives its bytes back', async () => {
    const server = await serve((req, res) => res.end('y'.repeat(req.url === '/big' ? 5000 : 1000)));
    const c = client([`127.0.0.1:${server.port}`]);
    let held = 0;
    const budget = {
      limit: 3000,
      claim: (bytes: number) => {
        if (held + bytes > 3000) return false;
        held += bytes;
        return true;
      },
      release: (bytes: number) => {
        held -= bytes;
      },
    };
    const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;
    const small = await c.send({ method: 'GET', url: url('/small') }, { ...soon(), budget });
    expect(small.ok && small.body.length).toBe(1000);
    expect(held).toBe(1000);
    const big = await c.send({ method: 'GET', url: url('/big') }, { ...soon(), budget });
    expect(big).toMatchObject({ ok: false, code: 'ResponseTooLarge', message: expect.stringContaining('3000 bytes') });
    expect(held).toBe(1000);
  });

  it('a server slower than the deadline: Timeout at the deadline', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const started = Date.now();
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/` }, soon(500));
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ ok: false, code: 'Timeout' });
    expect((result as { message: string }).message).toContain("the invocation's deadline");
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(600);
  });

  it('a body that stalls midway: Timeout at the request timeout when it is sooner than the deadline', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('only part of it');
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const started = Date.now();
    const result = await c.send(
      { method: 'GET', url: `http://127.0.0.1:${server.port}/`, timeoutMs: 300 },
      soon(5_000),
    );
    const elapsed = Date.now() - started;
    expect(result).toMatchObject({ ok: false, code: 'Timeout' });
    expect((result as { message: string }).message).toContain("the request's timeout of 300 ms");
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(400);
  });

  it('a deadline already past: Timeout, nothing sent', async () => {
    const server = await serve((_req, res) => res.end('no'));
    const c = client([`127.0.0.1:${server.port}`]);
    const result = await c.send(
      { method: 'GET', url: `http://127.0.0.1:${server.port}/` },
      { deadlineMs: Date.now() - 1 },
    );
    expect(result).toMatchObject({ ok: false, code: 'Timeout' });
    expect(server.connections).toBe(0);
  });

  it('a connection reset mid-body: ConnectionReset', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('x'.repeat(100), () => setTimeout(() => res.socket?.resetAndDestroy(), 20));
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/` }, soon());
    expect(result).toMatchObject({ ok: false, code: 'ConnectionReset' });
  });

  it('a chunked body cut short by a close: ConnectionReset', async () => {
    const server = await serve((_req, res) => {
      res.write('part', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/` }, soon());
    expect(result).toMatchObject({ ok: false, code: 'ConnectionReset' });
  });

  it('a response that is not HTTP: ProtocolError; a closed port: ConnectError', async () => {
    const raw = await serveRaw((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\n\r\n'));
    const closed = await serveRaw(() => {});
    const closedPort = closed.port;
    await closed.close();
    servers.splice(servers.indexOf(closed), 1);
    const c = client([`127.0.0.1:${raw.port}`, `127.0.0.1:${closedPort}`]);
    expect(await c.send({ method: 'GET', url: `http://127.0.0.1:${raw.port}/` }, soon())).toMatchObject({
      code: 'ProtocolError',
    });
    const refused = await c.send({ method: 'GET', url: `http://127.0.0.1:${closedPort}/` }, soon());
    expect(refused).toMatchObject({ code: 'ConnectError' });
    expect((refused as { message: string }).message).toContain('ECONNREFUSED');
  });

  it('a 101 answer and oversized response headers: ProtocolError', async () => {
    const switching = await serveRaw((socket) =>
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: tunnel\r\nConnection: Upgrade\r\n\r\n'),
    );
    const huge = await serveRaw((socket) =>
      socket.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(100_000)}\r\nContent-Length: 0\r\n\r\n`),
    );
    const c = client([`127.0.0.1:${switching.port}`, `127.0.0.1:${huge.port}`]);
    const upgraded = await c.send({ method: 'GET', url: `http://127.0.0.1:${switching.port}/` }, soon());
    expect(upgraded).toMatchObject({ ok: false, code: 'ProtocolError' });
    expect((upgraded as { message: string }).message).toContain('switched protocols');
    const oversized = await c.send({ method: 'GET', url: `http://127.0.0.1:${huge.port}/` }, soon());
    expect(oversized).toMatchObject({ ok: false, code: 'ProtocolError' });
    expect((oversized as { message: string }).message).toContain('HPE_HEADER_OVERFLOW');
  });

  it('an IPv6 literal granted as [::1]:port', async () => {
    const counters = fresh();
    const server = await listen(
      createHttpServer((req, res) => res.end(req.headers.host)),
      counters,
      '::1',
    );
    servers.push(server);
    const c = client([`[::1]:${server.port}`]);
    expect(text(await c.send({ method: 'GET', url: `http://[::1]:${server.port}/` }, soon()))).toBe(
      `[::1]:${server.port}`,
    );
    const denied = await client([`::1`]).send({ method: 'GET', url: `http://[::1]:${server.port}/` }, soon());
    expect(denied).toMatchObject({ code: 'EgressDenied' });
    expect((denied as { message: string }).message).toContain(`add "[::1]:${server.port}"`);
  });

  it('a 10 MB response with a 6 MB limit: ResponseTooLarge, and the server is cut off early', async () => {
    const total = 10 * 1024 * 1024;
    let written = 0;
    let closedAfter = -1;
    let onClosed = () => {};
    const closed = new Promise<void>((resolve) => {
      onClosed = resolve;
    });
    const server = await serve((_req, res) => {
      res.on('close', () => {
        closedAfter = written;
        onClosed();
      });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      // Writes only as fast as the client reads (backpressure), as a real server would.
      const pump = () => {
        while (written < total && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (written >= total) res.end();
      };
      pump();
    });
    const c = client([`127.0.0.1:${server.port}`], { maxResponseBytes: 6 * 1024 * 1024 });
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/` }, soon(10_000));
    expect(result).toEqual({
      ok: false,
      code: 'ResponseTooLarge',
      message: `the response from 127.0.0.1:${server.port} exceeds 6291456 bytes; the rest was not read`,
    });
    await closed;
    // The server saw the connection close before it had handed over the whole body (about
    // 8.2 of the 10 MB here: the client read 6 MB, the kernel's socket buffers held the rest).
    expect(closedAfter).toBeGreaterThan(0);
    expect(closedAfter).toBeLessThan(total);
  });

  it('a declared content-length over the limit is refused before the body is read', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(100 * 1024 * 1024) });
      res.write('x');
    });
    const c = client([`127.0.0.1:${server.port}`], { maxResponseBytes: 1024 });
    const result = await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/` }, soon());
    expect(result).toEqual({
      ok: false,
      code: 'ResponseTooLarge',
      message: `127.0.0.1:${server.port} announced a 104857600-byte body; at most 1024 are accepted`,
    });
  });

  it('keep-alive: two sequential calls share one TCP connection', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    const c = client([`127.0.0.1:${server.port}`]);
    expect(text(await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/a` }, soon()))).toBe('ok');
    expect(text(await c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/b` }, soon()))).toBe('ok');
    expect(server.requests).toBe(2);
    expect(server.connections).toBe(1);
  });

  it('a kept-alive connection the server dropped is retried once for GET, not for POST', async () => {
    let served = 0;
    const server = await serve((req, res) => {
      served += 1;
      // The second request on the first connection finds it dead, as after an idle close.
      if (served === 2) {
        req.socket.destroy();
        return;
      }
      res.end(`answer ${served}`);
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const url = `http://127.0.0.1:${server.port}/`;
    expect(text(await c.send({ method: 'GET', url }, soon()))).toBe('answer 1');
    expect(text(await c.send({ method: 'GET', url }, soon()))).toBe('answer 3');
    expect(server.connections).toBe(2);

    served = 1;
    const post = await c.send({ method: 'POST', url, body: new Uint8Array([1]) }, soon());
    expect(post).toMatchObject({ ok: false, code: 'ConnectionReset' });
  });

  it('after one dead idle connection, the retry opens a new one instead of drawing another dead one', async () => {
    const doomed = new Set<Socket>();
    const server = await serve((req, res) => {
      if (doomed.has(req.socket)) {
        req.socket.destroy();
        return;
      }
      setTimeout(() => res.end('fresh'), 20);
    });
    const c = client([`127.0.0.1:${server.port}`]);
    const url = `http://127.0.0.1:${server.port}/`;
    // Two calls at once leave two idle connections; then both die, as in a frozen sandbox.
    await Promise.all([c.send({ method: 'GET', url }, soon()), c.send({ method: 'GET', url }, soon())]);
    expect(server.connections).toBe(2);
    for (const socket of server.sockets) doomed.add(socket);
    expect(text(await c.send({ method: 'GET', url }, soon()))).toBe('fresh');
    expect(server.connections).toBe(3);
  });

  it('50 concurrent calls are all answered, over a bounded number of connections', async () => {
    const server = await serve((req, res) => setTimeout(() => res.end(req.url), 5));
    const c = client([`127.0.0.1:${server.port}`]);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        c.send({ method: 'GET', url: `http://127.0.0.1:${server.port}/${i}` }, soon()),
      ),
    );
    expect(results.map(text)).toEqual(Array.from({ length: 50 }, (_, i) => `/${i}`));
    expect(server.requests).toBe(50);
    expect(server.connections).toBeLessThanOrEqual(16);
  });

  it('resolves a name once for a burst of calls, and asks again after a failure', async () => {
    const server = await serve((_req, res) => res.end('ok'));
    let asked = 0;
    let fail = true;
    const c = client([`api.test:${server.port}`, `127.0.0.1:${server.port}`], {
      resolve: async () => {
        asked += 1;
        if (fail) throw Object.assign(new Error('temporary'), { code: 'EAI_AGAIN' });
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    const url = `http://api.test:${server.port}/`;
    expect(await c.send({ method: 'GET', url }, soon())).toMatchObject({ code: 'DnsError' });
    fail = false;
    const results = await Promise.all(Array.from({ length: 5 }, () => c.send({ method: 'GET', url }, soon())));
    expect(results.map(text)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(await c.send({ method: 'GET', url }, soon())).toMatchObject({ ok: true });
    expect(asked).toBe(2);
  });

  it('idle connections stay bounded across many origins (a wildcard grant cannot exhaust descriptors)', async () => {
    const origins = await Promise.all(Array.from({ length: 40 }, () => serve((_req, res) => res.end('ok'))));
    const open = () => origins.reduce((n, o) => n + o.sockets.filter((socket) => !socket.destroyed).length, 0);
    const c = client(origins.map((o) => `127.0.0.1:${o.port}`));
    for (const origin of origins) {
      expect(text(await c.send({ method: 'GET', url: `http://127.0.0.1:${origin.port}/` }, soon()))).toBe('ok');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(open()).toBeLessThanOrEqual(MAX_IDLE_SOCKETS + 1);
    expect(open()).toBeGreaterThan(0);
  });

  it('connects to the address it checked, never asking DNS again (rebinding)', async () => {
    const server = await serve((req, res) => res.end(req.headers.host));
    // `rebind.invalid` exists nowhere: the request can only succeed over the pinned address.
    const c = client([`rebind.invalid:${server.port}`, `127.0.0.1:${server.port}`], {
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const result = await c.send({ method: 'GET', url: `http://rebind.invalid:${server.port}/` }, soon());
    expect(text(result)).toBe(`rebind.invalid:${server.port}`);
  });
});

describe('OutboundClient over HTTPS with a private CA', () => {
  let dir = '';
  let ca = '';
  let key = '';
  let cert = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'outbound-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=outbound test CA',
    );
    openssl('req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=api.test');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:api.test,IP:127.0.0.1\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'leaf.pem',
      '-days',
      '2',
      '-extfile',
      'san.ext',
    );
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    key = readFileSync(join(dir, 'leaf.key'), 'utf8');
    cert = readFileSync(join(dir, 'leaf.pem'), 'utf8');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refused without the CA (TlsError), accepted with it', async () => {
    const server = await serve((_req, res) => res.end('secure hello'), { key, cert });
    const url = `https://127.0.0.1:${server.port}/`;
    const untrusting = client([`127.0.0.1:${server.port}`]);
    const refused = await untrusting.send({ method: 'GET', url }, soon());
    expect(refused).toMatchObject({ ok: false, code: 'TlsError' });
    expect((refused as { message: string }).message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(server.requests).toBe(0);

    const trusting = client([`127.0.0.1:${server.port}`], { ca });
    expect(text(await trusting.send({ method: 'GET', url }, soon()))).toBe('secure hello');
  });

  it('verifies the name, not the pinned address: a certificate for another name is a TlsError', async () => {
    const server = await serve((_req, res) => res.end('named'), { key, cert });
    const resolve = async () => [{ address: '127.0.0.1', family: 4 }];
    const c = client([`api.test:${server.port}`, `other.test:${server.port}`, `127.0.0.1:${server.port}`], {
      ca,
      resolve,
    });
    expect(text(await c.send({ method: 'GET', url: `https://api.test:${server.port}/` }, soon()))).toBe('named');
    const wrong = await c.send({ method: 'GET', url: `https://other.test:${server.port}/` }, soon());
    expect(wrong).toMatchObject({ ok: false, code: 'TlsError' });
    expect((wrong as { message: string }).message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('NODE_EXTRA_CA_CERTS, read by Node at startup, is trusted without a ca option', async () => {
    const server = await serve((_req, res) => res.end('extra CA'), { key, cert });
    // A child process, because Node reads the variable only when it starts.
    const probe = join(dir, 'probe.mjs');
    await build({
      stdin: {
        contents: [
          "import { OutboundClient } from './src/outbound/client.ts';",
          "import { parseEgressPolicy } from './src/outbound/egress-policy.ts';",
          `const c = new OutboundClient({ policy: parseEgressPolicy(['127.0.0.1:${server.port}'], 'probe') });`,
          `const r = await c.send({ method: 'GET', url: 'https://127.0.0.1:${server.port}/' }, { deadlineMs: Date.now() + 5000 });`,
          'console.log(r.ok ? Buffer.from(r.body).toString() : r.code);',
          'c.close();',
        ].join('\n'),
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: probe,
      logLevel: 'silent',
    });
    const run = async (env: NodeJS.ProcessEnv) => {
      // Asynchronous: the test server lives in this process and must keep answering.
      const { stdout } = await execFileAsync(process.execPath, [probe], { env: { PATH: process.env.PATH, ...env } });
      return stdout.trim();
    };
    expect(await run({ NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem') })).toBe('extra CA');
    expect(await run({})).toBe('TlsError');
  });
});
