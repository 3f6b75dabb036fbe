import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../aws/node-sha256.js';

/** The moto the test suite pins (test/support/moto.ts), in the same project-local virtualenv. */
const MOTO_VERSION = '5.2.5';
const VENV = resolve('node_modules', '.cache', 'wasi-lambda-moto');

/** What the `aws-getitem` workload reads: one table with one item, and the credentials the host signs with. */
export interface MotoTable {
  endpoint: string;
  table: string;
  region: string;
  /** The function's environment: the endpoint, the grant (wasm), the credentials the host (or the native SDK) signs with. */
  environment: Record<string, string>;
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => done(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts moto's server on loopback (installing it from PyPI into a virtualenv the first time)
 * and creates the table `bench` (partition key `id`) holding the item `bench-1`.
 */
export async function startMotoTable(): Promise<MotoTable> {
  const server = join(VENV, 'bin', 'moto_server');
  if (!existsSync(server)) {
    execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'ignore' });
    execFileSync(join(VENV, 'bin', 'pip'), ['install', '--quiet', `moto[server]==${MOTO_VERSION}`], {
      stdio: 'ignore',
    });
  }
  const port = await freePort();
  const child: ChildProcess = spawn(server, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => child.kill('SIGTERM');
  let up = false;
  for (let attempt = 0; attempt < 100 && !up; attempt++) {
    up = await fetch(`${endpoint}/moto-api/`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await new Promise((r) => setTimeout(r, 200));
  }
  if (!up) {
    stop();
    throw new Error(`moto did not start on ${endpoint}`);
  }
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret' };
  const signer = new SignatureV4({ service: 'dynamodb', region, credentials, sha256: NodeSha256 });
  const call = async (action: string, body: unknown) => {
    const url = new URL(endpoint);
    const payload = JSON.stringify(body);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${action}`,
      },
      body: payload,
    });
    const response = await fetch(endpoint, { method: 'POST', headers: signed.headers, body: payload });
    if (!response.ok) throw new Error(`moto ${action}: ${response.status} ${await response.text()}`);
  };
  const table = 'bench';
  try {
    await call('CreateTable', {
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    });
    await call('PutItem', { TableName: table, Item: { id: { S: 'bench-1' }, note: { S: 'x'.repeat(200) } } });
  } catch (err) {
    stop();
    throw err;
  }
  return {
    endpoint,
    table,
    region,
    environment: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      WASI_LAMBDA_AWS: `dynamodb:table/${table}`,
    },
    stop,
  };
}
