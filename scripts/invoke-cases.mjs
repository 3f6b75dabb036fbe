// Invokes each {wasm, event} read from stdin once with the host (reused and fresh instances) and
// prints the responses; run under each architecture by arm64-check.mjs.
import { readFileSync } from 'node:fs';
import { WasmHost } from '../dist/host.mjs';

const cases = JSON.parse(readFileSync(0, 'utf8'));
const context = {
  requestId: 'cross-arch',
  functionName: 'check',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:check',
  memoryLimitMb: 256,
  deadlineMs: Date.now() + 60_000,
  logGroupName: '/aws/lambda/check',
  logStreamName: 'stream',
};
const hosts = new Map();
const results = [];
for (const { wasm, event } of cases) {
  const outputs = [];
  for (const instanceMode of ['reuse', 'fresh']) {
    const key = `${wasm}:${instanceMode}`;
    if (!hosts.has(key)) hosts.set(key, await WasmHost.fromFile(wasm, { instanceMode, logSink: () => {} }));
    const outcome = hosts.get(key).invoke(readFileSync(event), context);
    outputs.push(
      outcome.status === 'ok' ? Buffer.from(outcome.response).toString('base64') : JSON.stringify(outcome.error),
    );
  }
  results.push(outputs.join(' | '));
}
process.stdout.write(JSON.stringify({ arch: process.arch, node: process.version, results }));
