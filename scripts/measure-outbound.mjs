// Cost per call of the outbound engine (egress check + client) against plain Node.js, on a
// loopback keep-alive GET: median and p99 in µs over N sequential calls per variant after a
// warm-up, all variants against the same server. Run from the repository root (bundles src/outbound with
// esbuild, no build step needed):
//   node scripts/measure-outbound.mjs [calls=5000]
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const calls = Number(process.argv[2] ?? 5000);
const warmup = Math.max(200, Math.floor(calls / 10));

const dir = mkdtempSync(join(tmpdir(), 'measure-outbound-'));
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

const payload = Buffer.from('{"ok":true}');
let connections = 0;
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length });
  res.end(payload);
});
server.on('connection', () => {
  connections += 1;
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const deadline = () => ({ deadlineMs: Date.now() + 3000 });

const policy = parseEgressPolicy([`127.0.0.1:${port}`, `api.measure.test:${port}`], 'measure');
const byAddress = new OutboundClient({ policy });
// A granted name, resolved by a stand-in for DNS that answers at once (the cache is then hit).
const byName = new OutboundClient({ policy, resolve: async () => [{ address: '127.0.0.1', family: 4 }] });
const agent = new http.Agent({ keepAlive: true });

const variants = {
  'OutboundClient, IP literal URL': async () => {
    const r = await byAddress.send({ method: 'GET', url: `http://127.0.0.1:${port}/` }, deadline());
    if (!r.ok) throw new Error(r.message);
  },
  'OutboundClient, granted name (cached resolution)': async () => {
    const r = await byName.send({ method: 'GET', url: `http://api.measure.test:${port}/` }, deadline());
    if (!r.ok) throw new Error(r.message);
  },
  'http.request, keep-alive agent': () =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      });
      req.on('error', reject);
      req.end();
    }),
  'fetch (undici)': async () => {
    const res = await fetch(`http://127.0.0.1:${port}/`);
    await res.arrayBuffer();
  },
};

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const entries = Object.entries(variants);
for (let i = 0; i < warmup; i++) for (const [, call] of entries) await call();
const before = connections;
const samples = entries.map(() => new Float64Array(calls));
// In 20 rounds of consecutive calls per variant: a burst of load on the (shared) machine falls
// on every variant alike, and no call pays for the previous variant's deferred work.
const rounds = 20;
const perRound = Math.ceil(calls / rounds);
for (let start = 0; start < calls; start += perRound) {
  for (let v = 0; v < entries.length; v++) {
    const call = entries[v][1];
    for (let i = start; i < Math.min(calls, start + perRound); i++) {
      const t = process.hrtime.bigint();
      await call();
      samples[v][i] = Number(process.hrtime.bigint() - t) / 1000;
    }
  }
}
console.log(`node ${process.version}, ${calls} calls per variant (in 20 rounds) after ${warmup} warm-up each`);
console.log('| variant | median µs | p99 µs |');
console.log('|---|---:|---:|');
entries.forEach(([name], v) => {
  const sorted = samples[v].sort();
  console.log(`| ${name} | ${quantile(sorted, 0.5).toFixed(1)} | ${quantile(sorted, 0.99).toFixed(1)} |`);
});
console.log(`new connections while measuring: ${connections - before} (kept-alive ones are reused)`);

byAddress.close();
byName.close();
agent.destroy();
server.closeAllConnections();
server.close();
rmSync(dir, { recursive: true, force: true });
