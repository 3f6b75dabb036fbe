import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FunctionHost } from '../src/host/function-host.js';
import { type HostConfig, loadHost } from '../src/host/load-host.js';
import type { InvokeOutcome } from '../src/host/outcome.js';
import { parseEgressPolicy } from '../src/outbound/egress-policy.js';
import { fn, startEmulator } from './support/emulator.js';
import { bootstrapPath, componentDir, decode, encode, handlerPath, testContext } from './support/handlers.js';
import { run } from './support/spawn.js';

/** The worker bundle the global setup built; the TypeScript sources cannot run as a worker. */
const WORKER = resolve('dist/guest-worker.mjs');

interface TestServer {
  port: number;
  /** `METHOD URL BODY` of every request the server received, in order. */
  seen: string[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

const servers: TestServer[] = [];
const hosts: { host: FunctionHost; fd: number }[] = [];

afterEach(async () => {
  for (const { host, fd } of hosts.splice(0)) {
    await host.close?.();
    closeSync(fd);
  }
  for (const server of servers.splice(0)) await server.close();
});

async function serve(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const seen: string[] = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      handler(req, res, body);
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const running: TestServer = {
    port: (server.address() as AddressInfo).port,
    seen,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
  servers.push(running);
  return running;
}

/** A worker-isolated host granted `grants`, its log in a file read back with `log()`. */
async function worker(handler: string, grants: string[], extra: Partial<HostConfig> = {}) {
  const path = join(mkdtempSync(join(tmpdir(), 'wasi-lambda-http-')), 'log');
  const fd = openSync(path, 'w');
  const host = await loadHost({
    guest: { kind: 'core', path: handlerPath(handler) },
    options: {},
    isolation: 'worker',
    logFd: fd,
    workerUrl: WORKER,
    allowHosts: parseEgressPolicy(grants, 'test'),
    ...extra,
  });
  hosts.push({ host, fd });
  return { host, log: () => readFileSync(path, 'utf8') };
}

function json(outcome: InvokeOutcome): Record<string, unknown> {
  if (outcome.status !== 'ok') throw new Error(`expected success, got ${JSON.stringify(outcome)}`);
  return JSON.parse(decode(outcome.response)) as Record<string, unknown>;
}

const invoke = async (host: FunctionHost, event: unknown, deadlineInMs = 3000) =>
  host.invoke(encode(JSON.stringify(event)), testContext({ deadlineMs: Date.now() + deadlineInMs }));

describe('outbound HTTP from the guest (fetch example, worker isolation)', () => {
  it('GETs and POSTs to a granted server; the server sees exactly the request', async () => {
    const server = await serve((req, res, body) => res.end(`${req.method} ${req.url} ${body}`));
    const { host } = await worker('fetch', [`127.0.0.1:${server.port}`]);
    const url = `http://127.0.0.1:${server.port}/items?id=7`;
    expect(json(await invoke(host, { url }))).toEqual({ status: 200, body: 'GET /items?id=7 ' });
    expect(json(await invoke(host, { url, method: 'POST', body: 'héllo' }))).toEqual({
      status: 200,
      body: 'POST /items?id=7 héllo',
    });
    expect(server.seen).toEqual(['GET /items?id=7 ', 'POST /items?id=7 héllo']);
  });

  it('refuses a destination not granted before a byte leaves: errorType EgressDenied, and a log line', async () => {
    const server = await serve((_req, res) => res.end('should not happen'));
    const { host, log } = await worker('fetch', ['api.example.com']);
    const outcome = await invoke(host, { url: `http://127.0.0.1:${server.port}/secret` });
    expect(outcome).toMatchObject({
      status: 'error',
      kind: 'handler',
      error: { errorType: 'EgressDenied', errorMessage: expect.stringContaining(`127.0.0.1:${server.port}`) },
    });
    expect(server.seen).toEqual([]);
    expect(log()).toMatch(
      new RegExp(
        `\\t${testContext().requestId}\\tWARN\\toutbound HTTP refused: egress to 127\\.0\\.0\\.1:${server.port}`,
      ),
    );
  });

  it('reads a chunked response whole (the host drops the hop-by-hop transfer-encoding)', async () => {
    const server = await serve((_req, res) => {
      res.write('first,');
      setTimeout(() => res.end('second'), 50);
    });
    const { host } = await worker('http-guest', [`127.0.0.1:${server.port}`]);
    const answer = json(await invoke(host, { action: 'join', urls: [`http://127.0.0.1:${server.port}/c`] }));
    expect(answer.answer).toEqual({ results: [{ status: 200, body: 'first,second' }] });
  });

  it('carries a 2 MiB response body into the guest intact', async () => {
    const big = 'abcdefgh'.repeat(256 * 1024);
    const server = await serve((_req, res) => res.end(big));
    const { host } = await worker('fetch', [`127.0.0.1:${server.port}`]);
    const answer = json(await invoke(host, { url: `http://127.0.0.1:${server.port}/big` }));
    expect(answer.status).toBe(200);
    expect((answer.body as string).length).toBe(big.length);
    expect(answer.body === big).toBe(true);
  });

  it('reports a reset connection as ConnectionReset, and the instance serves the next call', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/reset') req.socket.destroy();
      else res.end('fine');
    });
    const { host } = await worker('fetch', [`127.0.0.1:${server.port}`]);
    const outcome = await invoke(host, { url: `http://127.0.0.1:${server.port}/reset` });
    expect(outcome).toMatchObject({ status: 'error', error: { errorType: 'ConnectionReset' } });
    expect(json(await invoke(host, { url: `http://127.0.0.1:${server.port}/ok` }))).toEqual({
      status: 200,
      body: 'fine',
    });
  });

  it("bounds a call by the client's timeout (Timeout) and by the invocation's deadline (Sandbox.Timedout)", async () => {
    const server = await serve((_req, res) => {
      setTimeout(() => res.end('late'), 2000).unref();
    });
    const { host } = await worker('http-guest', [`127.0.0.1:${server.port}`]);
    const url = `http://127.0.0.1:${server.port}/slow`;
    const timedOut = json(await invoke(host, { action: 'timeout', url, ms: 200 }));
    expect(timedOut.answer).toMatchObject({ code: 'Timeout' });
    expect(timedOut.elapsedMs).toBeGreaterThanOrEqual(190);
    expect(timedOut.elapsedMs).toBeLessThan(1000);

    const started = Date.now();
    const outcome = await invoke(host, { action: 'join', urls: [url] }, 500);
    expect(outcome).toMatchObject({ status: 'error', error: { errorType: 'Sandbox.Timedout' } });
    expect(Date.now() - started).toBeLessThan(1500);
    // A new instance serves the next invocation.
    const again = json(await invoke(host, { action: 'timeout', url, ms: 100 }));
    expect(again.answer).toMatchObject({ code: 'Timeout' });
  });

  it('overlaps requests awaited together: two 200 ms calls take about 200 ms, not 400', async () => {
    const server = await serve((_req, res) => {
      setTimeout(() => res.end('slowish'), 200);
    });
    const { host } = await worker('http-guest', [`127.0.0.1:${server.port}`]);
    const urls = [`http://127.0.0.1:${server.port}/a`, `http://127.0.0.1:${server.port}/b`];
    // Warm: the first call pays for the connection.
    json(await invoke(host, { action: 'join', urls }));
    const cpu = process.cpuUsage();
    const answer = json(await invoke(host, { action: 'join', urls }));
    const { user } = process.cpuUsage(cpu);
    expect(answer.answer).toEqual({
      results: [
        { status: 200, body: 'slowish' },
        { status: 200, body: 'slowish' },
      ],
    });
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(195);
    expect(answer.elapsedMs).toBeLessThan(350);
    // Blocked in Atomics.wait, not spinning.
    expect(user / 1000).toBeLessThan(150);
  });

  it('drops a request the guest abandoned (a timer won the race) and keeps serving', async () => {
    const server = await serve((req, res) => {
      setTimeout(() => res.end(`done ${req.url}`), req.url === '/slow' ? 300 : 0);
    });
    const { host } = await worker('http-guest', [`127.0.0.1:${server.port}`]);
    const raced = json(await invoke(host, { action: 'race', url: `http://127.0.0.1:${server.port}/slow`, ms: 50 }));
    expect(raced.answer).toEqual({ winner: 'timer' });
    // The abandoned response arrives during the next invocations and must not be taken for theirs.
    for (let i = 0; i < 4; i++) {
      const next = json(await invoke(host, { action: 'join', urls: [`http://127.0.0.1:${server.port}/fast${i}`] }));
      expect(next.answer).toEqual({ results: [{ status: 200, body: `done /fast${i}` }] });
      await new Promise((done) => setTimeout(done, 100));
    }
  });

  it('refuses more than 64 requests in flight with TooManyRequests; the rest are answered', async () => {
    const server = await serve((req, res) => {
      setTimeout(() => res.end(req.url), 100);
    });
    const { host } = await worker('http-guest', [`127.0.0.1:${server.port}`]);
    const urls = Array.from({ length: 70 }, (_, i) => `http://127.0.0.1:${server.port}/${i}`);
    const answer = json(await invoke(host, { action: 'join', urls })).answer as { results: { code?: string }[] };
    const refused = answer.results.filter((r) => r.code === 'TooManyRequests');
    expect(refused).toHaveLength(6);
    expect(answer.results.slice(0, 64)).toEqual(
      urls.slice(0, 64).map((u) => ({ status: 200, body: new URL(u).pathname })),
    );
    expect(server.seen).toHaveLength(64);
  });

  it('answers Unsupported on inline isolation, which cannot wait for its own thread', async () => {
    const host = await loadHost({
      guest: { kind: 'core', path: handlerPath('fetch') },
      options: {},
      isolation: 'inline',
      logSink: () => {},
    });
    const outcome = await host.invoke(encode('{"url":"http://127.0.0.1:9/"}'), testContext());
    expect(outcome).toMatchObject({
      status: 'error',
      error: { errorType: 'Unsupported', errorMessage: expect.stringContaining('worker isolation') },
    });
  });
});

describe('outbound HTTPS from the guest with a private CA', () => {
  let dir = '';
  let ca = '';
  let tls = { key: '', cert: '' };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'http-guest-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=guest test CA');
    openssl('req', ...ec, '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=localhost');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    const sign = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext'];
    openssl('x509', '-req', '-in', 'leaf.csr', ...sign, '-out', 'leaf.pem');
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    tls = { key: readFileSync(join(dir, 'leaf.key'), 'utf8'), cert: readFileSync(join(dir, 'leaf.pem'), 'utf8') };
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the server with the CA given to the host; without it, TlsError', async () => {
    const server = await serve((_req, res) => res.end('secure hello'), tls);
    const url = `https://127.0.0.1:${server.port}/`;
    const trusted = await worker('fetch', [`127.0.0.1:${server.port}`], { outboundCa: ca });
    expect(json(await invoke(trusted.host, { url }))).toEqual({ status: 200, body: 'secure hello' });
    const untrusted = await worker('fetch', [`127.0.0.1:${server.port}`]);
    expect(await invoke(untrusted.host, { url })).toMatchObject({ status: 'error', error: { errorType: 'TlsError' } });
  });
});

describe('the managed Node.js entry (dist/lambda/handler.mjs)', () => {
  it('performs the call under WASI_LAMBDA_ALLOW_HOSTS and refuses the rest, logging the refusal', async () => {
    const server = await serve((req, res) => res.end(`managed ${req.url}`));
    const script = `
      const context = {
        awsRequestId: 'a1b2c3d4-0000-4000-8000-000000000002', functionName: 'fetch', functionVersion: '$LATEST',
        invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fetch', memoryLimitInMB: '256',
        logGroupName: '/aws/lambda/fetch', logStreamName: 's', getRemainingTimeInMillis: () => 3000,
      };
      const { handler } = await import(${JSON.stringify(resolve('dist/lambda/handler.mjs'))});
      const out = [];
      for (const url of ['http://127.0.0.1:${server.port}/ok', 'http://127.0.0.1:1/denied']) {
        try { out.push({ result: await handler({ url }, context) }); }
        catch (e) { out.push({ error: e.name }); }
      }
      process.stderr.write(JSON.stringify(out));`;
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        WASI_LAMBDA_MODULE: handlerPath('fetch'),
        WASI_LAMBDA_ALLOW_HOSTS: `127.0.0.1:${server.port}`,
      },
    });
    expect(JSON.parse(stderr)).toEqual([{ result: { status: 200, body: 'managed /ok' } }, { error: 'EgressDenied' }]);
    expect(stdout).toContain('WARN\toutbound HTTP refused: egress to 127.0.0.1:1 is not granted');
    expect(server.seen).toEqual(['GET /ok ']);
  });
});

describe('the CLI', () => {
  it('invoke --allow-host grants the call; without it the answer is EgressDenied', async () => {
    const server = await serve((req, res) => res.end(`cli ${req.url}`));
    const event = JSON.stringify({ url: `http://127.0.0.1:${server.port}/cli` });
    const cli = (...args: string[]) =>
      run(process.execPath, ['dist/cli.js', 'invoke', '-H', handlerPath('fetch'), '-e', '-', ...args], {
        input: event,
      });
    const granted = await cli('--allow-host', `127.0.0.1:${server.port}`);
    expect(JSON.parse(granted.stdout)).toEqual({ status: 200, body: 'cli /cli' });
    const denied = await cli();
    expect(JSON.parse(denied.stdout)).toMatchObject({ errorType: 'EgressDenied' });
    expect(denied.stderr).toContain('outbound HTTP refused');
    expect(server.seen).toEqual(['GET /cli ']);
  });
});

describe('the same answers from every backend', () => {
  const events = (port: number) => [
    { url: `http://127.0.0.1:${port}/items?id=1` },
    { url: `http://127.0.0.1:${port}/items`, method: 'PUT', body: '{"id":2}' },
    { url: `http://127.0.0.1:${port}/missing` },
    { url: `http://127.0.0.1:${port}/reset` },
    { url: 'http://10.0.0.1/not-granted' },
    { url: 'not a url' },
  ];
  const handler: Handler = (req, res, body) => {
    if (req.url === '/reset') req.socket.destroy();
    else if (req.url === '/missing') res.writeHead(404).end('no such item');
    else res.end(`${req.method} ${req.url} ${body}`);
  };

  it('the component (jco lifting and lowering the WIT) answers as the core module does', async () => {
    const server = await serve(handler);
    const grants = [`127.0.0.1:${server.port}`];
    const core = await worker('fetch', grants);
    const component = await worker('fetch', grants, { guest: { kind: 'component', dir: componentDir('fetch') } });
    for (const event of events(server.port)) {
      const expected = await invoke(core.host, event);
      expect(await invoke(component.host, event)).toEqual(expected);
    }
    const join = { action: 'join', urls: [`http://127.0.0.1:${server.port}/a`, `http://127.0.0.1:${server.port}/b`] };
    const httpCore = await worker('http-guest', grants);
    const httpComponent = await worker('http-guest', grants, {
      guest: { kind: 'component', dir: componentDir('http-guest') },
    });
    expect(json(await invoke(httpComponent.host, join)).answer).toEqual(json(await invoke(httpCore.host, join)).answer);
  });

  it('wasm and native answer alike through the emulator (native has no grant: not a sandbox)', async () => {
    const server = await serve(handler);
    const environment = { WASI_LAMBDA_ALLOW_HOSTS: `127.0.0.1:${server.port}` };
    const running = await startEmulator([
      fn({ name: 'fetch-wasm', kind: 'wasm', code: handlerPath('fetch'), environment }),
      fn({ name: 'fetch-native', kind: 'native', code: bootstrapPath('fetch'), environment }),
    ]);
    try {
      // Not the denied destination: natively nothing refuses it (and 10.0.0.1 would hang).
      for (const event of events(server.port).filter((e) => !e.url.includes('10.0.0.1'))) {
        const wasm = await running.invoke('fetch-wasm', JSON.stringify(event));
        const native = await running.invoke('fetch-native', JSON.stringify(event));
        const shape = (reply: { status: number; body: string }) => {
          const body = JSON.parse(reply.body) as { errorType?: string; status?: number; body?: string };
          return body.errorType === undefined ? body : { errorType: body.errorType };
        };
        expect({ event, native: shape(native) }).toEqual({ event, native: shape(wasm) });
      }
    } finally {
      await running.emulator.stop();
    }
  });

  it('100 concurrent invocations through the emulator: every call made once, every answer its own', async () => {
    const server = await serve((req, res) => {
      setTimeout(() => res.end(`answer ${req.url}`), 5);
    });
    const running = await startEmulator([
      fn({
        name: 'fetch',
        kind: 'wasm',
        code: handlerPath('fetch'),
        maxConcurrency: 4,
        environment: { WASI_LAMBDA_ALLOW_HOSTS: `127.0.0.1:${server.port}` },
      }),
    ]);
    try {
      const ids = Array.from({ length: 100 }, (_, i) => `id-${i}`);
      const replies = await Promise.all(
        ids.map((id) => running.invoke('fetch', JSON.stringify({ url: `http://127.0.0.1:${server.port}/${id}` }))),
      );
      expect(replies.map((r) => JSON.parse(r.body))).toEqual(ids.map((id) => ({ status: 200, body: `answer /${id}` })));
      expect([...server.seen].sort()).toEqual(ids.map((id) => `GET /${id} `).sort());
    } finally {
      await running.emulator.stop();
    }
  });
});
