// Cold start of the managed entry: process start to first response (performance.now() in the
// process), for worker and inline isolation against a bare `node`, interleaved, median of N.
// Pass other handler bundles to compare builds side by side (e.g. an older checkout's):
//   node scripts/measure-coldstart.mjs [N] [name=path/to/handler.mjs ...]
// Run after `npm run build`.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const wasm = resolve('wasm-handlers/target/wasi-lambda/hello.wasm');
const script = (bundle) => `
const context = { awsRequestId: 'a1', functionName: 'f', functionVersion: '$LATEST', invokedFunctionArn: 'arn',
  memoryLimitInMB: '128', logGroupName: 'g', logStreamName: 's', getRemainingTimeInMillis: () => 3000 };
const { handler } = await import(${JSON.stringify(bundle)});
await handler({ name: 'Ada' }, context);
process.stderr.write(String(performance.now()));`;
const entry = (bundle, env = {}) => ({ args: ['--input-type=module', '-e', script(bundle)], env });
const ours = resolve('dist/lambda/handler.mjs');
const variants = {
  'bare node': { args: ['-e', 'process.stderr.write(String(performance.now()))'], env: {} },
  'managed entry, worker': entry(ours),
  'managed entry, inline': entry(ours, { WASI_LAMBDA_ISOLATION: 'inline' }),
};
const [count, ...others] = process.argv.slice(2);
for (const spec of others) {
  const [name, path] = spec.split('=');
  if (name && path) variants[name] = entry(resolve(path));
}
const N = Number(count ?? 15);
const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let i = 0; i < N; i++) {
  for (const [name, variant] of Object.entries(variants)) {
    const run = spawnSync(process.execPath, variant.args, {
      env: { PATH: process.env.PATH, WASI_LAMBDA_MODULE: wasm, ...variant.env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    samples[name].push(Number(run.stderr.toString()));
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, xs] of Object.entries(samples)) {
  process.stdout.write(`${name.padEnd(28)} median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)})\n`);
}
