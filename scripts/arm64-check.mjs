// Compares host responses on x86_64 (this Node.js) and arm64 (qemu + Debian's nodejs:arm64)
// for every fixture event: same .wasm, same bytes out. Called by arm64-check.sh.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? '');
const FIXTURES = 'test/fixtures/events';
const stamp = JSON.parse(readFileSync('wasm-handlers/target/wasi-lambda/build-stamp.json', 'utf8'));
// Handlers whose events need services (orders: DynamoDB, S3, a webhook) are checked against
// moto in test/aws-orders.test.ts; this check is offline.
const NEEDS_SERVICES = new Set(['orders']);
const cases = readdirSync(FIXTURES)
  .filter((handler) => !NEEDS_SERVICES.has(handler))
  .flatMap((handler) =>
    readdirSync(join(FIXTURES, handler)).map((file) => ({
      wasm: stamp.outputs[handler],
      event: resolve(FIXTURES, handler, file),
      name: `${handler}/${file}`,
    })),
  );
const input = JSON.stringify(cases);
const run = (command, args) =>
  JSON.parse(
    execFileSync(command, args, {
      input,
      encoding: 'utf8',
      maxBuffer: 64 * 2 ** 20,
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );

const x86 = run(process.execPath, ['scripts/invoke-cases.mjs']);
const armNode = ['-L', root, join(root, 'usr/bin/node')];
// Debian's arm64 Node.js is 18, older than the package supports (Node.js 20.19+, which has
// `process.getBuiltinModule`): the host's randomness falls back to Web Crypto there, whose global
// Node.js 18 keeps behind a flag.
const armMajor = Number(
  execFileSync('qemu-aarch64-static', [...armNode, '--version'], { encoding: 'utf8' })
    .slice(1)
    .split('.')[0],
);
const webCrypto = armMajor < 20 ? ['--experimental-global-webcrypto'] : [];
const arm = run('qemu-aarch64-static', [...armNode, ...webCrypto, 'scripts/invoke-cases.mjs']);
let failures = 0;
for (const [i, c] of cases.entries()) {
  const same = x86.results[i] === arm.results[i];
  if (!same) failures++;
  process.stdout.write(`${same ? 'same' : 'DIFFERENT'}  ${c.name}\n`);
}
process.stdout.write(`\nx86_64: ${x86.arch}, Node ${x86.node}; arm64: ${arm.arch}, Node ${arm.node}\n`);
process.stdout.write(`${cases.length - failures} passed, ${failures} failed\n`);
process.exit(failures === 0 ? 0 : 1);
