// In-process cost of the host for one handler: compile + instantiate (median of 30 loads) and
// warm invocations (median and p99 of 10,000 after 2,000 warm-up), for the core module inline
// (reused and fresh instances), on a worker thread (the default isolation), and for the
// component. Run after `npm run build` and `wasi-lambda build --component`:
//   node scripts/measure-host.mjs [handler] [event-json]
import { readFileSync } from 'node:fs';
import { ComponentHost, loadHost, WasmHost } from '../dist/index.js';

const handler = process.argv[2] ?? 'hello';
const event = new TextEncoder().encode(process.argv[3] ?? '{"name":"Ada"}');
const target = 'wasm-handlers/target/wasi-lambda';
const bytes = readFileSync(`${target}/${handler}.wasm`);
const quiet = { logSink: () => {} };
const context = () => ({
  requestId: 'measure',
  functionName: handler,
  functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${handler}`,
  memoryLimitMb: 128,
  deadlineMs: Date.now() + 3000,
  logGroupName: `/aws/lambda/${handler}`,
  logStreamName: 'measure',
});
const quantile = (samples, q) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length * q)];

const devNull = (await import('node:fs')).openSync('/dev/null', 'w');
const workers = [];
async function onWorker(options) {
  const host = await loadHost({
    guest: { kind: 'core', path: `${target}/${handler}.wasm` },
    options,
    isolation: 'worker',
    logFd: devNull,
  });
  workers.push(host);
  return host;
}
const variants = {
  'core, inline': () => WasmHost.create(new Uint8Array(bytes), quiet),
  'core, inline, fresh': () => WasmHost.create(new Uint8Array(bytes), { ...quiet, instanceMode: 'fresh' }),
  'core, worker': () => onWorker({}),
  'core, worker, fresh': () => onWorker({ instanceMode: 'fresh' }),
  component: () => ComponentHost.fromDir(`${target}/component/${handler}`, quiet),
};
const calls = process.argv[4] === undefined ? 10_000 : Number(process.argv[4]);
for (const [name, load] of Object.entries(variants)) {
  const started = performance.now();
  await load();
  const first = performance.now() - started;
  const loads = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    await load();
    loads.push(performance.now() - t);
  }
  const host = await load();
  for (let i = 0; i < 2000; i++) await host.invoke(event, context());
  const samples = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await host.invoke(event, context());
    samples.push(performance.now() - t);
  }
  while (workers.length > 0) await workers.pop().close();
  process.stdout.write(
    `${name.padEnd(20)} first load ${first.toFixed(1)} ms, load ${quantile(loads, 0.5).toFixed(2)} ms, ` +
      `warm call p50 ${(quantile(samples, 0.5) * 1000).toFixed(1)} µs p99 ${(quantile(samples, 0.99) * 1000).toFixed(1)} µs\n`,
  );
}
