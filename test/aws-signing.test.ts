import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { crc32 } from 'node:zlib';
import { SignatureV4 } from '@smithy/signature-v4';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsConfig } from '../src/aws/aws-config.js';
import { AwsAwareOutbound, awsEgressContext, awsEgressPolicy, prepareAwsRequest } from '../src/aws/aws-egress.js';
import { parseAwsGrant } from '../src/aws/aws-grant.js';
import { classifyAwsRequest } from '../src/aws/aws-request.js';
import { NodeSha256 } from '../src/aws/node-sha256.js';
import { WasiLambdaError } from '../src/errors.js';
import { OutboundClient, type OutboundRequest } from '../src/outbound/client.js';
import { NO_EGRESS, parseEgressPolicy } from '../src/outbound/egress-policy.js';
import type { OutboundResult } from '../src/outbound/outbound-result.js';
import { countingProxy } from './support/counting-proxy.js';
import { type Moto, startMoto } from './support/moto.js';

const REGION = 'eu-west-1';
const PLACEHOLDER = { accessKeyId: 'AKIAGUESTPLACEHOLDER', secretAccessKey: 'guest-placeholder-secret' };
const deadline = () => ({ deadlineMs: Date.now() + 20_000 });

/**
 * A request as the guest's aws-sdk-rust sends it: SigV4-signed with its placeholder
 * credentials (the SDK's own signer, as the Rust SDK signs: S3 with x-amz-content-sha256).
 */
async function guestRequest(
  service: string,
  method: string,
  url: string,
  options: {
    headers?: Record<string, string>;
    body?: Uint8Array | string;
    region?: string;
    credentials?: typeof PLACEHOLDER;
  } = {},
): Promise<OutboundRequest> {
  const target = new URL(url);
  const body = typeof options.body === 'string' ? new TextEncoder().encode(options.body) : options.body;
  const signer = new SignatureV4({
    service,
    region: options.region ?? REGION,
    credentials: options.credentials ?? PLACEHOLDER,
    sha256: NodeSha256,
    uriEscapePath: service !== 's3',
    applyChecksum: service === 's3',
  });
  const query: Record<string, string> = {};
  for (const [key, value] of target.searchParams) query[key] = value;
  const signed = await signer.sign({
    method,
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port === '' ? {} : { port: Number(target.port) }),
    path: target.pathname,
    query,
    headers: { host: target.host, 'user-agent': 'aws-sdk-rust/1.0 os/wasi', ...options.headers },
    body,
  });
  return { method, url, headers: Object.entries(signed.headers), body };
}

function json(service: 'dynamodb' | 'sqs', endpoint: string, operation: string, payload: unknown) {
  const target = service === 'dynamodb' ? `DynamoDB_20120810.${operation}` : `AmazonSQS.${operation}`;
  return guestRequest(service, 'POST', `${endpoint}/`, {
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
    body: JSON.stringify(payload),
  });
}

function text(result: OutboundResult): string {
  return result.ok ? new TextDecoder().decode(result.body) : `${result.code}: ${result.message}`;
}

describe('WASI_LAMBDA_AWS', () => {
  it('reads services and resources; a bare service grants all of it', () => {
    const grant = parseAwsGrant(' dynamodb:table/orders, s3:my-bucket,sqs,s3, sqs:orders-queue ');
    expect([...(grant.services.get('dynamodb')?.resources ?? [])]).toEqual(['orders']);
    expect(grant.services.get('s3')?.resources).toBeUndefined();
    expect(grant.services.get('sqs')?.resources).toBeUndefined();
    expect(parseAwsGrant(undefined).services.size).toBe(0);
  });

  it.each([
    ['dynamo', 'not a service the host can sign for'],
    ['sts', 'credentials'],
    ['dynamodb:orders', 'table/<name>'],
    ['s3:My_Bucket', 'not a valid bucket name'],
    ['sns:my-topic', 'grant the whole service'],
    ['sqs:', 'not a valid queue name'],
  ])('refuses %s, saying what a valid entry looks like', (entry, why) => {
    let error: unknown;
    try {
      parseAwsGrant(entry);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(WasiLambdaError);
    expect((error as WasiLambdaError).code).toBe('INVALID_CONFIG');
    expect((error as Error).message).toContain(why);
    expect((error as Error).message).toContain('dynamodb:table/orders');
  });

  it('needs a region when something is granted, and reads endpoints as the SDKs do', () => {
    expect(() => awsConfig({ WASI_LAMBDA_AWS: 's3' })).toThrow(/AWS_REGION/);
    const config = awsConfig({
      WASI_LAMBDA_AWS: 's3,dynamodb,sqs',
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_DYNAMODB: 'http://[::1]:8000',
    });
    expect(config.endpoints.get('dynamodb')).toMatchObject({ host: '::1', port: 8000, secure: false });
    expect(config.endpoints.get('s3')).toMatchObject({ host: '127.0.0.1', port: 4566, variable: 'AWS_ENDPOINT_URL' });
    const ignored = awsConfig({
      WASI_LAMBDA_AWS: 's3',
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true',
    });
    expect(ignored.endpoints.size).toBe(0);
    expect(() => awsConfig({ WASI_LAMBDA_AWS: 's3', AWS_REGION: REGION, AWS_ENDPOINT_URL: 'localhost:4566' })).toThrow(
      /AWS_ENDPOINT_URL/,
    );
  });

  it('never prints the credentials', () => {
    const env = {
      WASI_LAMBDA_AWS: 's3',
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'AKIAREALKEY',
      AWS_SECRET_ACCESS_KEY: 'real/secret+key',
    };
    const config = awsConfig(env);
    expect(awsConfig(env)).toBe(config);
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 10 }), `${config.credentials}`]) {
      expect(shown).not.toContain('real/secret+key');
      expect(shown).not.toContain('AKIAREALKEY');
    }
  });
});

describe('which AWS requests the host signs (genuine endpoints)', () => {
  const config = awsConfig({
    WASI_LAMBDA_AWS: 'dynamodb:table/orders,s3:orders-bucket,sqs:orders-queue',
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'AKIAREALKEY',
    AWS_SECRET_ACCESS_KEY: 'real-secret',
  });
  const classify = async (...args: Parameters<typeof guestRequest>) =>
    classifyAwsRequest(await guestRequest(...args), config);

  it('passes a request without an AWS signature through untouched', async () => {
    const request = {
      method: 'GET',
      url: 'https://dynamodb.eu-west-1.amazonaws.com/',
      headers: [['authorization', 'Bearer x']] as const,
    };
    expect(classifyAwsRequest(request, config)).toBeUndefined();
    const prepared = await prepareAwsRequest(request, awsEgressContext(config));
    expect(prepared).toEqual({ request, grantedOrigin: undefined });
  });

  it('accepts the services’ own endpoints and reads the bucket from either S3 style', async () => {
    const body = JSON.stringify({ TableName: 'orders', Key: { id: { S: '1' } } });
    const headers = { 'x-amz-target': 'DynamoDB_20120810.GetItem' };
    expect(
      await classify('dynamodb', 'POST', 'https://dynamodb.eu-west-1.amazonaws.com/', { headers, body }),
    ).toMatchObject({
      authority: 'dynamodb.eu-west-1.amazonaws.com:443',
      resources: ['orders'],
    });
    expect(await classify('s3', 'GET', 'https://orders-bucket.s3.eu-west-1.amazonaws.com/a/b.json')).toMatchObject({
      authority: 'orders-bucket.s3.eu-west-1.amazonaws.com:443',
      resources: ['orders-bucket'],
    });
    expect(await classify('s3', 'GET', 'https://s3.eu-west-1.amazonaws.com/orders-bucket/a')).toMatchObject({
      resources: ['orders-bucket'],
    });
    expect(await classify('s3', 'GET', 'https://s3.eu-west-1.amazonaws.com/')).toMatchObject({ resources: [] });
  });

  it.each([
    ['a look-alike host', 'dynamodb', 'https://dynamodb.eu-west-1.amazonaws.com.evil.example/'],
    ['a prefixed host', 'dynamodb', 'https://evil-dynamodb.eu-west-1.amazonaws.com/'],
    ['another service’s host', 'dynamodb', 'https://sqs.eu-west-1.amazonaws.com/'],
    ['another region’s host', 'dynamodb', 'https://dynamodb.us-east-1.amazonaws.com/'],
    ['plain HTTP', 'dynamodb', 'http://dynamodb.eu-west-1.amazonaws.com/'],
    ['another port', 'dynamodb', 'https://dynamodb.eu-west-1.amazonaws.com:8443/'],
    ['the global S3 name', 's3', 'https://s3.amazonaws.com/orders-bucket/a'],
    ['a non-AWS host', 's3', 'https://attacker.example/orders-bucket/a'],
  ])('refuses %s', async (_what, service, url) => {
    const result = await classify(service, 'GET', url);
    expect(result).toMatchObject({ ok: false, code: 'EgressDenied' });
    expect((result as { message: string }).message).toMatch(/endpoint/);
  });

  it('refuses another region in the credential scope', async () => {
    const result = await classify('s3', 'GET', 'https://s3.eu-west-1.amazonaws.com/orders-bucket/a', {
      region: 'us-east-1',
    });
    expect(result).toMatchObject({
      code: 'EgressDenied',
      message: expect.stringMatching(/region us-east-1.*eu-west-1/),
    });
  });

  it.each([
    [
      'a batch naming an ungranted table',
      'dynamodb',
      {
        'x-amz-target': 'DynamoDB_20120810.BatchWriteItem',
      },
      JSON.stringify({ RequestItems: { orders: [], audit: [] } }),
      'dynamodb:table/audit',
    ],
    [
      'a transaction naming an ungranted table by ARN',
      'dynamodb',
      { 'x-amz-target': 'DynamoDB_20120810.TransactWriteItems' },
      JSON.stringify({
        TransactItems: [
          { Put: { TableName: 'orders', Item: {} } },
          { Delete: { TableName: 'arn:aws:dynamodb:eu-west-1:123456789012:table/users', Key: {} } },
        ],
      }),
      'dynamodb:table/users',
    ],
    [
      'PartiQL, whose tables the host cannot read',
      'dynamodb',
      { 'x-amz-target': 'DynamoDB_20120810.ExecuteStatement' },
      JSON.stringify({ Statement: 'SELECT * FROM users' }),
      'PartiQL',
    ],
  ])('refuses %s', async (_what, service, headers, body, hint) => {
    const result = await classify(service, 'POST', 'https://dynamodb.eu-west-1.amazonaws.com/', { headers, body });
    expect(result).toMatchObject({ code: 'EgressDenied', message: expect.stringContaining(hint) });
  });

  it('does not mistake a table name stored as an attribute value for a table the request names', async () => {
    const body = JSON.stringify({ TableName: 'orders', Item: { id: { S: '1' }, TableName: { S: 'users' } } });
    const result = await classify('dynamodb', 'POST', 'https://dynamodb.eu-west-1.amazonaws.com/', {
      headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem' },
      body,
    });
    expect(result).toMatchObject({ resources: ['orders'] });
  });

  it('refuses a copy out of an ungranted bucket and presigning parameters', async () => {
    const copy = await classify('s3', 'PUT', 'https://orders-bucket.s3.eu-west-1.amazonaws.com/stolen', {
      headers: { 'x-amz-copy-source': '/private-bucket/secrets.txt' },
    });
    expect(copy).toMatchObject({ code: 'EgressDenied', message: expect.stringContaining('s3:private-bucket') });
    const presigned = await classify(
      's3',
      'GET',
      'https://orders-bucket.s3.eu-west-1.amazonaws.com/a?X-Amz-Credential=x&X-Amz-Signature=y',
    );
    expect(presigned).toMatchObject({ code: 'EgressDenied', message: expect.stringContaining('presigning') });
  });

  it('refuses a body that repeats a key, which parsers read differently', async () => {
    const result = await classify('dynamodb', 'POST', 'https://dynamodb.eu-west-1.amazonaws.com/', {
      headers: { 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      body: '{"TableName":"orders","Key":{},"Table\\u004eame":"users"}',
    });
    expect(result).toMatchObject({ code: 'EgressDenied', message: expect.stringContaining('repeated keys') });
    const nested = await classify('sqs', 'POST', 'https://sqs.eu-west-1.amazonaws.com/', {
      headers: { 'x-amz-target': 'AmazonSQS.SendMessage' },
      body: '{"MessageBody":"{\\"QueueUrl\\":1}","QueueUrl":"https://q/1/orders-queue","QueueUrl":"https://q/1/payroll"}',
    });
    expect(nested).toMatchObject({ code: 'EgressDenied', message: expect.stringContaining('repeated keys') });
    // A repeated ancestor: a first-wins parser would see the ungranted table, a last-wins one the granted.
    const ancestor = await classify('dynamodb', 'POST', 'https://dynamodb.eu-west-1.amazonaws.com/', {
      headers: { 'x-amz-target': 'DynamoDB_20120810.TransactWriteItems' },
      body: '{"TransactItems":[{"Put":{"TableName":"users","Item":{}}}],"TransactItems":[{"Put":{"TableName":"orders","Item":{}}}]}',
    });
    expect(ancestor).toMatchObject({ code: 'EgressDenied', message: expect.stringContaining('repeated keys') });
    // Escaped quotes and backslashes inside values are not keys.
    const escaped = await classify('dynamodb', 'POST', 'https://dynamodb.eu-west-1.amazonaws.com/', {
      headers: { 'x-amz-target': 'DynamoDB_20120810.PutItem' },
      body: '{"TableName":"orders","Item":{"a":{"S":"x\\\\"},"b":{"S":"\\",\\"TableName\\":"}}}',
    });
    expect(escaped).toMatchObject({ resources: ['orders'] });
  });

  it('refuses an S3 path whose bucket segment is empty', async () => {
    const result = await classify('s3', 'GET', 'https://s3.eu-west-1.amazonaws.com//payroll/2026.csv');
    expect(result).toMatchObject({ code: 'EgressDenied', message: expect.stringContaining('empty bucket') });
  });

  it('reads SQS queues from the query protocol too', async () => {
    const result = await classify('sqs', 'POST', 'https://sqs.eu-west-1.amazonaws.com/', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=SendMessage&QueueUrl=https%3A%2F%2Fsqs.eu-west-1.amazonaws.com%2F123456789012%2Fpayroll&MessageBody=x',
    });
    expect(result).toMatchObject({ code: 'EgressDenied', message: expect.stringContaining('sqs:payroll') });
  });

  it('signs a header named __proto__ or constructor as any other header', async () => {
    const request = await guestRequest('s3', 'GET', 'https://s3.eu-west-1.amazonaws.com/orders-bucket/a?__proto__=1');
    const withHeaders = {
      ...request,
      headers: [...(request.headers ?? []), ['constructor', 'c'], ['__proto__', 'p']] as [string, string][],
    };
    const prepared = await prepareAwsRequest(withHeaders, awsEgressContext(config));
    if ('code' in prepared) throw new Error(prepared.message);
    const headers = prepared.request.headers ?? [];
    expect(headers).toContainEqual(['constructor', 'c']);
    expect(headers).toContainEqual(['__proto__', 'p']);
    expect(headers.find(([name]) => name === 'authorization')?.[1]).toMatch(/SignedHeaders=.*constructor/);
  });

  it('never rejects, and signs only for the granted services’ own endpoints (property)', async () => {
    const granted = new Set(['dynamodb.eu-west-1.amazonaws.com', 's3.eu-west-1.amazonaws.com']);
    const host = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.constantFrom(
          ...granted,
          'orders-bucket.s3.eu-west-1.amazonaws.com',
          'sqs.eu-west-1.amazonaws.com',
        ),
      },
      fc.domain(),
      fc.tuple(fc.domain(), fc.constantFrom(...granted)).map(([a, b]) => `${a}.${b}`),
      fc.tuple(fc.constantFrom(...granted), fc.domain()).map(([a, b]) => `${a}.${b}`),
      fc.constantFrom('[::1]', '127.0.0.1', 'dynamodb.eu-west-1.amazonaws.com.', 'DYNAMODB.eu-west-1.AMAZONAWS.com'),
    );
    // Whole services, so that requests are signed often enough for the property to say something.
    const context = awsEgressContext(
      awsConfig({
        WASI_LAMBDA_AWS: 'dynamodb,s3',
        AWS_REGION: REGION,
        AWS_ACCESS_KEY_ID: 'AKIAREALKEY',
        AWS_SECRET_ACCESS_KEY: 's',
      }),
    );
    let signed = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('https', 'https', 'http'),
        host,
        fc.option(fc.oneof(fc.constant(443), fc.integer({ min: 1, max: 65_535 })), { nil: undefined, freq: 2 }),
        fc.webPath(),
        fc.constantFrom('dynamodb', 's3', 'dynamodb', 's3', 'sqs', 'execute-api', 'dynamodb '),
        fc.constantFrom('eu-west-1', 'eu-west-1', 'us-east-1', ''),
        fc.array(
          fc.tuple(fc.constantFrom('x-amz-target', 'x-amz-content-sha256', 'x-amz-copy-source', 'host'), fc.string()),
        ),
        fc.uint8Array({ maxLength: 64 }),
        async (scheme, name, port, path, service, region, extra, body) => {
          const url = `${scheme}://${name}${port === undefined ? '' : `:${port}`}${path}`;
          const authorization = `AWS4-HMAC-SHA256 Credential=AKIA/20260101/${region}/${service}/aws4_request, SignedHeaders=host, Signature=00`;
          const headers: [string, string][] = [['authorization', authorization], ...extra];
          const prepared = await prepareAwsRequest({ method: 'PUT', url, headers, body }, context);
          if ('code' in prepared || prepared.grantedOrigin === undefined) return;
          signed += 1;
          const target = new URL(url);
          expect(target.protocol).toBe('https:');
          const bare = target.hostname.replace(/\.$/, '');
          expect(prepared.grantedOrigin).toBe(`${bare}:443`);
          expect(granted.has(bare) || bare.endsWith('.s3.eu-west-1.amazonaws.com')).toBe(true);
        },
      ),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 500),
        examples: [
          [
            'https',
            'orders-bucket.s3.eu-west-1.amazonaws.com',
            undefined,
            '/k',
            's3',
            'eu-west-1',
            [],
            new Uint8Array(),
          ],
        ],
      },
    );
    expect(signed).toBeGreaterThan(1);
  });

  it('grants the genuine endpoints to the outbound policy', () => {
    const policy = awsEgressPolicy(config, NO_EGRESS);
    expect(policy.grants).toEqual(
      expect.arrayContaining([
        { kind: 'name', host: 'dynamodb.eu-west-1.amazonaws.com', ports: [443] },
        { kind: 'suffix', suffix: 's3.eu-west-1.amazonaws.com', ports: [443] },
      ]),
    );
  });
});

/** An IAM Query API call to moto (moto's own setup, before it enforces authentication). */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ ...params, Version: '2010-05-08' }).toString();
  const request = await guestRequest('iam', 'POST', `${endpoint}/`, {
    region: 'us-east-1',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const response = await fetch(request.url, {
    method: 'POST',
    headers: request.headers?.filter(([name]) => name !== 'host') as [string, string][],
    body,
  });
  const answer = await response.text();
  if (!response.ok) throw new Error(`IAM ${params.Action} failed: ${answer}`);
  return answer;
}

const FUNCTION_ACTIONS = [
  'dynamodb:CreateTable',
  'dynamodb:PutItem',
  'dynamodb:GetItem',
  's3:CreateBucket',
  's3:PutObject',
  's3:GetObject',
  'sqs:CreateQueue',
  'sqs:SendMessage',
];

describe('against moto with IAM enforced', () => {
  let moto: Moto;
  let proxy: Awaited<ReturnType<typeof countingProxy>>;
  let env: Record<string, string>;
  let outbound: AwsAwareOutbound;
  const denied: string[] = [];

  beforeAll(async () => {
    // Moto answers the first three actions unauthenticated (the IAM setup below), then checks
    // every request's signature and the user's policy.
    moto = await startMoto({ env: { INITIAL_NO_AUTH_ACTION_COUNT: '3' } });
    await iam(moto.endpoint, { Action: 'CreateUser', UserName: 'function-role' });
    const key = await iam(moto.endpoint, { Action: 'CreateAccessKey', UserName: 'function-role' });
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: FUNCTION_ACTIONS, Resource: '*' }] };
    await iam(moto.endpoint, {
      Action: 'PutUserPolicy',
      UserName: 'function-role',
      PolicyName: 'function',
      PolicyDocument: JSON.stringify(policy),
    });
    proxy = await countingProxy(moto.endpoint);
    env = {
      WASI_LAMBDA_AWS: 'dynamodb:table/orders,s3:orders-bucket,sqs:orders-queue',
      AWS_REGION: REGION,
      AWS_ENDPOINT_URL: proxy.url,
      AWS_ACCESS_KEY_ID: /<AccessKeyId>([^<]+)</.exec(key)?.[1] ?? '',
      AWS_SECRET_ACCESS_KEY: /<SecretAccessKey>([^<]+)</.exec(key)?.[1] ?? '',
    };
    outbound = new AwsAwareOutbound(awsConfig(env), { policy: NO_EGRESS, onDenied: (m) => denied.push(m) });
  }, 180_000);

  afterAll(() => {
    outbound?.close();
    proxy?.close();
    moto?.stop();
  });

  const send = async (request: OutboundRequest) => outbound.send(request, deadline());

  it('DynamoDB CreateTable, PutItem and GetItem succeed when the host signs them', async () => {
    const created = await send(
      await json('dynamodb', proxy.url, 'CreateTable', {
        TableName: 'orders',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    expect(created, text(created)).toMatchObject({ ok: true, status: 200 });
    const item = { id: { S: 'order-1' }, total: { N: '42' } };
    const put = await send(await json('dynamodb', proxy.url, 'PutItem', { TableName: 'orders', Item: item }));
    expect(put, text(put)).toMatchObject({ ok: true, status: 200 });
    const got = await send(
      await json('dynamodb', proxy.url, 'GetItem', { TableName: 'orders', Key: { id: { S: 'order-1' } } }),
    );
    expect(got, text(got)).toMatchObject({ ok: true, status: 200 });
    expect(JSON.parse(text(got))).toEqual({ Item: item });
  });

  it('S3 PutObject with a body hash and with UNSIGNED-PAYLOAD, then GetObject, succeed', async () => {
    const bucket = await send(
      await guestRequest('s3', 'PUT', `${proxy.url}/orders-bucket`, {
        body: `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${REGION}</LocationConstraint></CreateBucketConfiguration>`,
      }),
    );
    expect(bucket, text(bucket)).toMatchObject({ ok: true, status: 200 });
    const hashed = await guestRequest('s3', 'PUT', `${proxy.url}/orders-bucket/hashed.txt`, { body: 'hashed body' });
    expect(hashed.headers).toContainEqual([
      'x-amz-content-sha256',
      createHash('sha256').update('hashed body').digest('hex'),
    ]);
    const unsigned = await guestRequest('s3', 'PUT', `${proxy.url}/orders-bucket/unsigned.txt`, {
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      body: 'unsigned body',
    });
    for (const request of [hashed, unsigned]) {
      const put = await send(request);
      expect(put, text(put)).toMatchObject({ ok: true, status: 200 });
    }
    for (const [key, body] of [
      ['hashed.txt', 'hashed body'],
      ['unsigned.txt', 'unsigned body'],
    ]) {
      const got = await send(await guestRequest('s3', 'GET', `${proxy.url}/orders-bucket/${key}`));
      expect(got, text(got)).toMatchObject({ ok: true, status: 200 });
      expect(text(got)).toBe(body);
    }
  });

  it('S3 PutObject in unsigned aws-chunked encoding with a checksum trailer succeeds', async () => {
    const data = 'streamed body';
    const checksum = Buffer.alloc(4);
    checksum.writeUInt32BE(crc32(data));
    const body = `${data.length.toString(16)}\r\n${data}\r\n0\r\nx-amz-checksum-crc32:${checksum.toString('base64')}\r\n\r\n`;
    const request = await guestRequest('s3', 'PUT', `${proxy.url}/orders-bucket/streamed.txt`, {
      headers: {
        'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
      },
      body,
    });
    const put = await send(request);
    expect(put, text(put)).toMatchObject({ ok: true, status: 200 });
    const got = await send(await guestRequest('s3', 'GET', `${proxy.url}/orders-bucket/streamed.txt`));
    expect(text(got)).toBe(data);
  });

  it('SQS CreateQueue and SendMessage succeed', async () => {
    const queue = await send(await json('sqs', proxy.url, 'CreateQueue', { QueueName: 'orders-queue' }));
    expect(queue, text(queue)).toMatchObject({ ok: true, status: 200 });
    const { QueueUrl } = JSON.parse(text(queue)) as { QueueUrl: string };
    const sent = await send(await json('sqs', proxy.url, 'SendMessage', { QueueUrl, MessageBody: 'order-1' }));
    expect(sent, text(sent)).toMatchObject({ ok: true, status: 200 });
    expect(JSON.parse(text(sent))).toHaveProperty('MessageId');
  });

  it('moto refuses the guest’s own placeholder signature and calls outside the IAM policy', async () => {
    const plain = new OutboundClient({ policy: parseEgressPolicy([new URL(proxy.url).host], 'test') });
    try {
      const request = await json('dynamodb', proxy.url, 'GetItem', {
        TableName: 'orders',
        Key: { id: { S: 'order-1' } },
      });
      const asIs = await plain.send(request, deadline());
      expect(asIs, text(asIs)).toMatchObject({ ok: true, status: 403 });
      expect(text(asIs)).toMatch(/InvalidClientTokenId/);
      // The function's key id with any other secret: moto checks the signature, not only the key.
      const forged = await guestRequest('dynamodb', 'POST', `${proxy.url}/`, {
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
        body: JSON.stringify({ TableName: 'orders', Key: { id: { S: 'order-1' } } }),
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: 'not-the-secret' },
      });
      const wrongSecret = await plain.send(forged, deadline());
      expect(wrongSecret, text(wrongSecret)).toMatchObject({ ok: true, status: 403 });
      expect(text(wrongSecret)).toMatch(/signature/i);
    } finally {
      plain.close();
    }
    // Signed by the host with the function's key, but not in its IAM policy.
    const scan = await send(await json('dynamodb', proxy.url, 'Scan', { TableName: 'orders' }));
    expect(scan, text(scan)).toMatchObject({ ok: true, status: 403 });
    expect(text(scan)).toMatch(/not authorized to perform: dynamodb:Scan/);
  });

  it('signs with credentials from the container credentials endpoint, fetched once', async () => {
    let fetches = 0;
    const endpoint = http.createServer((req, res) => {
      fetches += 1;
      if (req.headers.authorization !== 'container-token') {
        res.writeHead(401).end();
        return;
      }
      const expiration = new Date(Date.now() + 3_600_000).toISOString();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          AccessKeyId: env.AWS_ACCESS_KEY_ID,
          SecretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          Expiration: expiration,
        }),
      );
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    const uri = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/v1/credentials`;
    const { AWS_ACCESS_KEY_ID: _id, AWS_SECRET_ACCESS_KEY: _secret, ...rest } = env;
    const container = new AwsAwareOutbound(
      awsConfig({
        ...rest,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: uri,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-token',
      }),
      { policy: NO_EGRESS },
    );
    const wrongToken = new AwsAwareOutbound(
      awsConfig({ ...rest, AWS_CONTAINER_CREDENTIALS_FULL_URI: uri, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'stale-token' }),
      { policy: NO_EGRESS },
    );
    try {
      const get = () => json('dynamodb', proxy.url, 'GetItem', { TableName: 'orders', Key: { id: { S: 'order-1' } } });
      const [first, second] = await Promise.all([
        container.send(await get(), deadline()),
        container.send(await get(), deadline()),
      ]);
      const third = await container.send(await get(), deadline());
      for (const result of [first, second, third])
        expect(result, text(result as OutboundResult)).toMatchObject({ ok: true, status: 200 });
      expect(fetches).toBe(1);
      const refused = await wrongToken.send(await get(), deadline());
      expect(refused).toMatchObject({
        ok: false,
        code: 'ConnectError',
        message: expect.stringContaining('answered 401'),
      });
      expect(text(refused)).not.toContain('stale-token');
    } finally {
      container.close();
      wrongToken.close();
      endpoint.close();
    }
  });

  describe('refusals never reach moto', () => {
    it.each([
      [
        'an ungranted service',
        () => guestRequest('sns', 'POST', `${proxy.url}/`, { body: 'Action=ListTopics' }),
        'add "sns"',
      ],
      [
        'an ungranted table',
        () => json('dynamodb', proxy.url, 'GetItem', { TableName: 'users', Key: { id: { S: '1' } } }),
        'add "dynamodb:table/users"',
      ],
      ['an ungranted bucket', () => guestRequest('s3', 'GET', `${proxy.url}/payroll/2026.csv`), 'add "s3:payroll"'],
      [
        'an ungranted queue',
        () =>
          json('sqs', proxy.url, 'SendMessage', { QueueUrl: `${proxy.url}/123456789012/payroll`, MessageBody: 'x' }),
        'add "sqs:payroll"',
      ],
      [
        'the real AWS endpoint while an override is configured',
        () => json('dynamodb', 'https://dynamodb.eu-west-1.amazonaws.com', 'GetItem', { TableName: 'orders', Key: {} }),
        'AWS_ENDPOINT_URL sends dynamodb to http://127.0.0.1',
      ],
      [
        'a non-AWS host carrying an AWS signature',
        () => json('dynamodb', 'http://127.0.0.2:9', 'GetItem', { TableName: 'orders', Key: {} }),
        'the host signs only requests to that endpoint',
      ],
    ])('%s is EgressDenied', async (_what, build, hint) => {
      const before = proxy.requests.length;
      const deniedBefore = denied.length;
      const result = await send(await build());
      expect(result).toMatchObject({ ok: false, code: 'EgressDenied', message: expect.stringContaining(hint) });
      expect(denied.length).toBe(deniedBefore + 1);
      expect(proxy.requests.length).toBe(before);
      expect(result.ok ? '' : result.message).not.toContain(env.AWS_SECRET_ACCESS_KEY);
      expect(result.ok ? '' : result.message).not.toContain(env.AWS_ACCESS_KEY_ID);
    });

    it('a body hash that is not the body’s, and chunk-signed uploads, are refused as invalid', async () => {
      const before = proxy.requests.length;
      const forged = await guestRequest('s3', 'PUT', `${proxy.url}/orders-bucket/forged.txt`, {
        headers: { 'x-amz-content-sha256': createHash('sha256').update('something else').digest('hex') },
        body: 'the body',
      });
      expect(await send(forged)).toMatchObject({ code: 'InvalidRequest', message: expect.stringContaining('SHA-256') });
      const chunked = await guestRequest('s3', 'PUT', `${proxy.url}/orders-bucket/chunked.txt`, {
        headers: { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked' },
        body: 'whatever',
      });
      expect(await send(chunked)).toMatchObject({ code: 'InvalidRequest', message: expect.stringContaining('chunk') });
      expect(proxy.requests.length).toBe(before);
    });
  });

  it('the signed request carries the function’s signature and none of the guest’s', async () => {
    const request = await json('dynamodb', proxy.url, 'GetItem', {
      TableName: 'orders',
      Key: { id: { S: 'order-1' } },
    });
    const prepared = await prepareAwsRequest(
      { ...request, headers: [...(request.headers ?? []), ['x-amz-security-token', 'guest-token']] },
      awsEgressContext(awsConfig(env)),
    );
    if ('code' in prepared) throw new Error(prepared.message);
    expect(prepared.grantedOrigin).toBe(new URL(proxy.url).host);
    const headers = new Map(prepared.request.headers);
    expect(headers.get('authorization')).toContain(`Credential=${env.AWS_ACCESS_KEY_ID}/`);
    expect(headers.has('x-amz-security-token')).toBe(false);
    expect(JSON.stringify(prepared)).not.toContain(PLACEHOLDER.accessKeyId);
  });
});
