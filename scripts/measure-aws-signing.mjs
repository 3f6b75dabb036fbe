// The host's cost per AWS request: `prepareAwsRequest` (the grant/endpoint/resource decision
// plus stripping the guest's signature and signing with SigV4) on requests the guest's SDK
// signed with placeholder credentials. Median and p99 in µs over N sequential calls per case
// after a warm-up; no network. Also prints the minified size of src/aws bundled with its
// dependencies. Run from the repository root (bundles src/aws with esbuild, no build step):
//   node scripts/measure-aws-signing.mjs [calls=2000]
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const calls = Number(process.argv[2] ?? 2000);
const warmup = Math.max(200, Math.floor(calls / 10));

const dir = mkdtempSync(join(tmpdir(), 'measure-aws-'));
const bundle = join(dir, 'aws.mjs');
const entry = {
  contents:
    "export { awsConfig } from './src/aws/aws-config.ts';\n" +
    "export { awsEgressContext, prepareAwsRequest } from './src/aws/aws-egress.ts';\n" +
    "export { NodeSha256 } from './src/aws/node-sha256.ts';\n" +
    "export { SignatureV4 } from '@smithy/signature-v4';\n",
  resolveDir: process.cwd(),
  loader: 'ts',
};
const common = { bundle: true, platform: 'node', format: 'esm', logLevel: 'silent' };
await build({ ...common, stdin: entry, outfile: bundle });
const { awsConfig, awsEgressContext, prepareAwsRequest, NodeSha256, SignatureV4 } = await import(
  pathToFileURL(bundle).href
);

// What ships: src/aws/aws-egress.ts alone, minified, as esbuild resolves packages for node by
// default (`main`: @smithy's CommonJS builds, not tree-shaken) and preferring `module` (ESM).
async function shippedKiB(mainFields) {
  const out = join(dir, `shipped-${mainFields.join('-')}.mjs`);
  await build({ ...common, entryPoints: ['src/aws/aws-egress.ts'], outfile: out, minify: true, mainFields });
  return (statSync(out).size / 1024).toFixed(1);
}
const sizes = { main: await shippedKiB(['main', 'module']), module: await shippedKiB(['module', 'main']) };

const region = 'eu-west-1';
const context = awsEgressContext(
  awsConfig({
    WASI_LAMBDA_AWS: 'dynamodb:table/orders,s3:orders-bucket',
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLE'.repeat(20),
  }),
);

/** A request as the guest's SDK sends it, signed with placeholder credentials. */
async function guestRequest(service, method, url, headers, body) {
  const target = new URL(url);
  const signer = new SignatureV4({
    service,
    region,
    credentials: { accessKeyId: 'AKIAGUESTPLACEHOLDER', secretAccessKey: 'placeholder' },
    sha256: NodeSha256,
    uriEscapePath: service !== 's3',
    applyChecksum: service === 's3',
  });
  const signed = await signer.sign({
    method,
    protocol: target.protocol,
    hostname: target.hostname,
    path: target.pathname,
    query: {},
    headers: { host: target.host, 'user-agent': 'aws-sdk-rust/1.3 os/wasi lang/rust', ...headers },
    body,
  });
  return { method, url, headers: Object.entries(signed.headers), body };
}

const item = { id: { S: 'order-1' }, payload: { S: 'x'.repeat(1024 - 60) } };
const putItem = new TextEncoder().encode(JSON.stringify({ TableName: 'orders', Item: item }));
const object = new Uint8Array(1024 * 1024).fill(97);
const cases = [
  [
    `DynamoDB PutItem, ${putItem.length} B`,
    await guestRequest(
      'dynamodb',
      'POST',
      `https://dynamodb.${region}.amazonaws.com/`,
      { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.PutItem' },
      putItem,
    ),
  ],
  [
    'S3 PutObject 1 MiB, x-amz-content-sha256: <hex> (host verifies)',
    await guestRequest('s3', 'PUT', `https://orders-bucket.s3.${region}.amazonaws.com/o.bin`, {}, object),
  ],
  [
    'S3 PutObject 1 MiB, UNSIGNED-PAYLOAD',
    await guestRequest(
      's3',
      'PUT',
      `https://orders-bucket.s3.${region}.amazonaws.com/o.bin`,
      { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      object,
    ),
  ],
];

// The guest's own hashing of a 1 MiB body, for scale: what the hex variant costs on either side.
const sha = () => createHash('sha256').update(object).digest('hex');

function stats(samples) {
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { median: at(0.5), p99: at(0.99) };
}

console.log(`node ${process.version}, ${calls} calls per case after ${warmup} warm-up`);
for (const [name, request] of cases) {
  for (let i = 0; i < warmup; i++) await prepareAwsRequest(request, context);
  const samples = [];
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    const prepared = await prepareAwsRequest(request, context);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
    if ('code' in prepared) throw new Error(`${name}: ${prepared.message}`);
  }
  const { median, p99 } = stats(samples);
  console.log(`${name.padEnd(62)} median ${median.toFixed(1).padStart(7)} µs   p99 ${p99.toFixed(1).padStart(7)} µs`);
}
const hashSamples = [];
for (let i = 0; i < Math.min(calls, 1000); i++) {
  const start = process.hrtime.bigint();
  sha();
  hashSamples.push(Number(process.hrtime.bigint() - start) / 1000);
}
console.log(
  `${'(reference) SHA-256 of 1 MiB, node:crypto'.padEnd(62)} median ${stats(hashSamples).median.toFixed(1).padStart(7)} µs`,
);
console.log(
  `src/aws/aws-egress.ts + src/outbound + @smithy/signature-v4, minified: ${sizes.main} KiB ` +
    `(mainFields main,module), ${sizes.module} KiB (mainFields module,main)`,
);
rmSync(dir, { recursive: true, force: true });
