import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { awsConfig } from '../aws/aws-config.js';
import { awsEgressContext, prepareAwsRequest } from '../aws/aws-egress.js';
import { NodeSha256 } from '../aws/node-sha256.js';
import { OutboundClient } from '../outbound/client.js';
import { parseEgressPolicy } from '../outbound/egress-policy.js';
import { wasmInProcess } from './in-process.js';
import { type Summary, summarize } from './stats.js';

/** A loopback HTTP server answering `pong` with keep-alive: what the `http-get` workload calls. */
export interface LoopbackServer {
  url: string;
  /** The `WASI_LAMBDA_ALLOW_HOSTS` entry that grants it (loopback is granted by address only). */
  grant: string;
  close(): Promise<void>;
}

export async function startLoopbackServer(): Promise<LoopbackServer> {
  const server = createServer((_req, res) => res.end('pong'));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/ping`,
    grant: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/**
 * The outbound bridge's own cost per call, in-process (µs, medians): an invocation of the
 * `http-guest` test guest making one loopback GET, less one making none, is one guest call
 * (guest glue → the worker's import → the main thread → the host's client → the server →
 * back); less the same GET made directly by the host's client, it is the bridge alone.
 */
export async function bridgeCost(
  guest: string,
  server: Pick<LoopbackServer, 'url' | 'grant'>,
  samples: number,
): Promise<{ withCallUs: number; withoutCallUs: number; directUs: number; costUs: number }> {
  const policy = parseEgressPolicy([server.grant], 'bench');
  const warmup = Math.max(50, Math.round(samples / 10));
  const encode = (urls: string[]) => new TextEncoder().encode(JSON.stringify({ action: 'join', urls }));
  const withCall = await wasmInProcess({ path: guest, allowHosts: policy }, encode([server.url]), samples, warmup);
  const withoutCall = await wasmInProcess({ path: guest, allowHosts: policy }, encode([]), samples, warmup);
  const client = new OutboundClient({ policy });
  const direct: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const started = performance.now();
    const result = await client.send({ method: 'GET', url: server.url }, { deadlineMs: Date.now() + 5000 });
    const elapsed = performance.now() - started;
    if (!result.ok) throw new Error(`the direct GET failed: ${result.message}`);
    if (i >= warmup) direct.push(elapsed);
  }
  const withCallUs = median(withCall.ms) * 1000;
  const withoutCallUs = median(withoutCall.ms) * 1000;
  const directUs = median(direct) * 1000;
  return { withCallUs, withoutCallUs, directUs, costUs: withCallUs - withoutCallUs - directUs };
}

/**
 * The host's work on one AWS request (ms per request): the grant and endpoint decision,
 * dropping the guest's signature and signing with SigV4, on a DynamoDB GetItem signed with
 * placeholder credentials as the guest's SDK sends it. No network.
 */
export async function signingCost(samples: number): Promise<Summary> {
  const region = 'us-east-1';
  const context = awsEgressContext(
    awsConfig({
      WASI_LAMBDA_AWS: 'dynamodb:table/bench',
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEXAMPLE'.repeat(20),
    }),
  );
  const url = new URL(`https://dynamodb.${region}.amazonaws.com/`);
  const body = new TextEncoder().encode(JSON.stringify({ Key: { id: { S: 'bench-1' } }, TableName: 'bench' }));
  const guestSigner = new SignatureV4({
    service: 'dynamodb',
    region,
    credentials: { accessKeyId: 'AKIAGUESTPLACEHOLDER', secretAccessKey: 'placeholder' },
    sha256: NodeSha256,
  });
  const signed = await guestSigner.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    query: {},
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
      'user-agent': 'aws-sdk-rust/1 os/wasi lang/rust',
    },
    body,
  });
  const request = { method: 'POST', url: url.href, headers: Object.entries(signed.headers), body };
  const warmup = Math.max(200, Math.round(samples / 10));
  const ms: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const started = performance.now();
    const prepared = await prepareAwsRequest(request, context);
    const elapsed = performance.now() - started;
    if ('code' in prepared) throw new Error(`the GetItem request was refused: ${prepared.message}`);
    if (i >= warmup) ms.push(elapsed);
  }
  return summarize(ms);
}
