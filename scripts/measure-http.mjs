// The guest's outbound HTTP: what one call costs through the bridge, and wasm against native.
//
// 1. In-process (worker isolation, `http-guest`): an invocation making one loopback keep-alive
//    GET minus an invocation making none is one guest call (wasm glue → worker import → main
//    thread → OutboundClient → server → back); minus a direct OutboundClient call to the same
//    server, it is the bridge's own cost. Medians over N sequential invocations each.
// 2. Through the emulator: p50 of an invocation of `fetch` (one GET) as wasm and as native, and
//    of `hello` (no call) as wasm and native: the invocation path's own ratio. Each is the
//    median of 5 interleaved rounds of N.
// Run from the repository root after `npm run build:js` and the wasm and native builds:
//   node scripts/measure-http.mjs [invocations=500]
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { Emulator, FUNCTION_DEFAULTS, loadHost } from '../dist/index.js';

const n = Number(process.argv[2] ?? 500);
const warmup = Math.max(50, Math.floor(n / 10));
const target = 'wasm-handlers/target/wasi-lambda';

const dir = mkdtempSync(join(tmpdir(), 'measure-http-'));
const bundle = join(dir, 'outbound.mjs');
await build({
  stdin: {
    contents:
      "export { OutboundClient } from './src/outbound/client.ts';\n" +
      "export { parseEgressPolicy } from './src/outbound/egress-policy.ts';\n",
    resolveDir: process.cwd(),
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: bundle,
  logLevel: 'silent',
});
const { OutboundClient, parseEgressPolicy } = await import(pathToFileURL(bundle).href);

const server = http.createServer((_req, res) => res.end('pong'));
server.keepAliveTimeout = 60_000;
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const { port } = server.address();
const url = `http://127.0.0.1:${port}/ping`;
const grant = `127.0.0.1:${port}`;

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
async function timed(fn) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await fn();
    samples.push((performance.now() - started) * 1000);
  }
  return median(samples);
}

const direct = new OutboundClient({ policy: parseEgressPolicy([grant], 'bench') });
const directUs = await timed(async () => {
  const result = await direct.send({ method: 'GET', url }, { deadlineMs: Date.now() + 5000 });
  if (!result.ok) throw new Error(result.message);
});

const host = await loadHost({
  guest: { kind: 'core', path: resolve(target, 'http-guest.wasm') },
  options: {},
  isolation: 'worker',
  logFd: openSync('/dev/null', 'w'),
  workerUrl: resolve('dist/guest-worker.mjs'),
  allowHosts: parseEgressPolicy([grant], 'bench'),
});
const ctx = () => ({
  requestId: 'bench',
  functionName: 'bench',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench',
  memoryLimitMb: 256,
  deadlineMs: Date.now() + 5000,
  logGroupName: '/aws/lambda/bench',
  logStreamName: 'bench',
});
const oneCall = new TextEncoder().encode(JSON.stringify({ action: 'join', urls: [url] }));
const noCall = new TextEncoder().encode(JSON.stringify({ action: 'join', urls: [] }));
const invoke = (event) => async () => {
  const outcome = await host.invoke(event, ctx());
  if (outcome.status !== 'ok') throw new Error(JSON.stringify(outcome));
};
const withCallUs = await timed(invoke(oneCall));
const withoutCallUs = await timed(invoke(noCall));
await host.close();

const emulator = await Emulator.start({
  port: 0,
  logSink: () => {},
  functions: [
    {
      ...FUNCTION_DEFAULTS,
      name: 'wasm',
      kind: 'wasm',
      code: resolve(target, 'fetch.wasm'),
      environment: { WASI_LAMBDA_ALLOW_HOSTS: grant },
    },
    {
      ...FUNCTION_DEFAULTS,
      name: 'native',
      kind: 'native',
      code: resolve(target, 'native/fetch/bootstrap'),
      environment: {},
    },
    // The same invocation path with no outbound call: the floor the ratio above cannot go below.
    { ...FUNCTION_DEFAULTS, name: 'hello-wasm', kind: 'wasm', code: resolve(target, 'hello.wasm'), environment: {} },
    {
      ...FUNCTION_DEFAULTS,
      name: 'hello-native',
      kind: 'native',
      code: resolve(target, 'native/hello/bootstrap'),
      environment: {},
    },
  ],
});
const through =
  (name, event = { url }, expect = '"status":200') =>
  async () => {
    const response = await fetch(`${emulator.endpoint}/2015-03-31/functions/${name}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
    });
    const body = await response.text();
    if (!body.includes(expect)) throw new Error(body);
  };
// Interleaved in rounds, so a change in the machine's load touches both sides alike.
const wasmSamples = [];
const nativeSamples = [];
const helloWasmSamples = [];
const helloNativeSamples = [];
for (let round = 0; round < 5; round++) {
  wasmSamples.push(await timed(through('wasm')));
  nativeSamples.push(await timed(through('native')));
  helloWasmSamples.push(await timed(through('hello-wasm', { name: 'x' }, 'Hello')));
  helloNativeSamples.push(await timed(through('hello-native', { name: 'x' }, 'Hello')));
}
const wasmUs = median(wasmSamples);
const nativeUs = median(nativeSamples);
const helloWasmUs = median(helloWasmSamples);
const helloNativeUs = median(helloNativeSamples);
await emulator.stop();
server.close();
rmSync(dir, { recursive: true, force: true });

const fmt = (us) => `${us.toFixed(0).padStart(7)} µs`;
console.log(`median of ${n} sequential calls each (after ${warmup} warm-up), loopback keep-alive GET`);
console.log(`direct OutboundClient.send (main thread)          ${fmt(directUs)}`);
console.log(`invocation with one guest GET (worker)             ${fmt(withCallUs)}`);
console.log(`invocation with no call (worker)                   ${fmt(withoutCallUs)}`);
console.log(`one guest call (difference)                        ${fmt(withCallUs - withoutCallUs)}`);
console.log(`bridge's own cost (guest call − direct call)       ${fmt(withCallUs - withoutCallUs - directUs)}`);
console.log(`emulator p50, fetch as wasm                        ${fmt(wasmUs)}`);
console.log(`emulator p50, fetch as native                      ${fmt(nativeUs)}`);
console.log(`  wasm / native                                    ${(wasmUs / nativeUs).toFixed(2).padStart(7)} ×`);
console.log(`emulator p50, hello as wasm (no outbound call)     ${fmt(helloWasmUs)}`);
console.log(`emulator p50, hello as native                      ${fmt(helloNativeUs)}`);
console.log(
  `  wasm / native                                    ${(helloWasmUs / helloNativeUs).toFixed(2).padStart(7)} ×`,
);
