// In-process cost of the host for one handler: compile + instantiate (median of 30 loads) and
// warm invocations (median and p99 of 10,000 after 2,000 warm-up), for the core module on both
// WASI backends and for the component. Run after `npm run build` and `wasi-lambda build --component`:
//   node scripts/measure-host.mjs [handler] [event-json]
import { readFileSync } from 'node:fs';
import { ComponentHost, WasmHost } from '../dist/index.js';

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

const variants = {
  'core, @wasmer/wasi': () => WasmHost.create(new Uint8Array(bytes), { ...quiet, wasi: 'wasmer' }),
  'core, node:wasi': () => WasmHost.create(new Uint8Array(bytes), { ...quiet, wasi: 'node' }),
  component: () => ComponentHost.fromDir(`${target}/component/${handler}`, quiet),
};
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
  for (let i = 0; i < 2000; i++) host.invoke(event, context());
  const calls = [];
  for (let i = 0; i < 10_000; i++) {
    const t = performance.now();
    host.invoke(event, context());
    calls.push(performance.now() - t);
  }
  process.stdout.write(
    `${name.padEnd(20)} first load ${first.toFixed(1)} ms, load ${quantile(loads, 0.5).toFixed(2)} ms, ` +
      `warm call p50 ${(quantile(calls, 0.5) * 1000).toFixed(1)} µs p99 ${(quantile(calls, 0.99) * 1000).toFixed(1)} µs\n`,
  );
}
