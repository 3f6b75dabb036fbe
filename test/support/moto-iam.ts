import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/aws/node-sha256.js';

/** Credentials of an IAM user created in moto. */
export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Anything: moto answers its first `INITIAL_NO_AUTH_ACTION_COUNT` actions without checking. */
const ANONYMOUS: Keys = { accessKeyId: 'AKIASETUP', secretAccessKey: 'setup' };

/**
 * One AWS call to moto signed with `keys` (the SDK's own signer), as an operator's script
 * would make it. Throws with moto's answer when the call fails.
 */
export async function awsCall(
  endpoint: string,
  keys: Keys,
  service: string,
  request: {
    method?: string;
    path?: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<string> {
  const url = new URL(request.path ?? '/', endpoint);
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value);
  const method = request.method ?? 'POST';
  const signer = new SignatureV4({
    service,
    region: 'us-east-1',
    credentials: keys,
    sha256: NodeSha256,
    uriEscapePath: service !== 's3',
    applyChecksum: service === 's3',
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: request.query ?? {},
    headers: { host: url.host, ...request.headers },
    body: request.body,
  });
  const headers = Object.entries(signed.headers).filter(([name]) => name !== 'host');
  const response = await fetch(url, { method, headers, ...(request.body === undefined ? {} : { body: request.body }) });
  const answer = await response.text();
  if (!response.ok) throw new Error(`${service} ${method} ${url.pathname} failed (${response.status}): ${answer}`);
  return answer;
}

/**
 * Creates an IAM user allowed exactly `actions` and returns its keys. Needs a moto started
 * with `INITIAL_NO_AUTH_ACTION_COUNT: '3'` (these three calls), which then enforces IAM.
 */
export async function createIamUser(endpoint: string, name: string, actions: readonly string[]): Promise<Keys> {
  const iam = (params: Record<string, string>) =>
    awsCall(endpoint, ANONYMOUS, 'iam', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
    });
  await iam({ Action: 'CreateUser', UserName: name });
  const key = await iam({ Action: 'CreateAccessKey', UserName: name });
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] };
  await iam({ Action: 'PutUserPolicy', UserName: name, PolicyName: name, PolicyDocument: JSON.stringify(policy) });
  return {
    accessKeyId: /<AccessKeyId>([^<]+)</.exec(key)?.[1] ?? '',
    secretAccessKey: /<SecretAccessKey>([^<]+)</.exec(key)?.[1] ?? '',
  };
}

/** A DynamoDB JSON-protocol call. */
export function dynamodb(endpoint: string, keys: Keys, operation: string, payload: unknown): Promise<string> {
  return awsCall(endpoint, keys, 'dynamodb', {
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': `DynamoDB_20120810.${operation}` },
    body: JSON.stringify(payload),
  });
}
