import { isIP } from 'node:net';
import type { OutboundRequest } from '../outbound/client.js';
import { normalizeHost } from '../outbound/egress-policy.js';
import { failure, type OutboundFailure } from '../outbound/outbound-result.js';
import type { AwsConfig, AwsEndpoint } from './aws-config.js';
import { AWS_GRANT_VARIABLE, AWS_SERVICES, type AwsService } from './aws-grant.js';
import { parseStrictJson } from './strict-json.js';

/** The guest's request as the outbound bridge carries it. */
export type GuestRequest = OutboundRequest;

/** A request the guest's AWS SDK signed, checked: the host may sign it for this destination. */
export interface AwsTarget {
  service: AwsService;
  region: string;
  url: URL;
  /** `host:port` (IPv6 in brackets) of the checked destination: what egress must allow. */
  authority: string;
  /** What the request names (bucket, table, queue), every one of them granted. */
  resources: readonly string[];
}

/** Query parameters that carry a presigned request's signature; the host never forwards them signed. */
const PRESIGN_PARAMETERS = new Set([
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-signature',
  'x-amz-security-token',
  'x-amz-date',
  'x-amz-signedheaders',
  'x-amz-expires',
]);

/** Keys whose string values name a DynamoDB table (by name or ARN) anywhere in a request. */
const DYNAMODB_TABLE_KEYS = new Set([
  'TableName',
  'TableArn',
  'TargetTableName',
  'SourceTableName',
  'SourceTableArn',
  'GlobalTableName',
  'ResourceArn',
  'BackupArn',
  'ExportArn',
  'ImportArn',
  'StreamArn',
]);

/** PartiQL names tables inside a statement the host does not parse. */
const DYNAMODB_PARTIQL = new Set(['ExecuteStatement', 'BatchExecuteStatement', 'ExecuteTransaction']);

const SQS_QUEUE_KEYS = new Set(['QueueUrl', 'QueueName', 'SourceArn', 'DestinationArn']);

function denied(message: string): OutboundFailure {
  return failure('EgressDenied', message);
}

function authorityOf(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function headerValues(headers: GuestRequest['headers'], name: string): string[] {
  const values: string[] = [];
  for (const [key, value] of headers ?? []) if (key.toLowerCase() === name) values.push(value);
  return values;
}

/** The genuine regional endpoint's DNS suffix (China's partition has its own). */
function dnsSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/**
 * Where the request goes, checked against the one place the service may be reached: its
 * override when one is configured (then the real endpoint is refused: a function pointed at
 * moto must not send the real credentials' signatures to AWS), else its regional endpoint
 * over HTTPS. For S3 also returns the bucket a virtual-hosted name carries.
 */
function checkDestination(
  url: URL,
  service: AwsService,
  region: string,
  override: AwsEndpoint | undefined,
): { authority: string; bucket: string | undefined } | OutboundFailure {
  const host = normalizeHost(url.hostname);
  if (host === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return failure('InvalidRequest', `"${url.href.slice(0, 200)}" is not an http(s) URL with a valid host`);
  }
  const secure = url.protocol === 'https:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const authority = authorityOf(host, port);
  const s3 = service.name === 's3';
  if (override !== undefined) {
    const expected = `${override.secure ? 'https' : 'http'}://${authorityOf(override.host, override.port)}`;
    if (secure === override.secure && port === override.port) {
      if (host === override.host) return { authority, bucket: undefined };
      if (s3 && host.endsWith(`.${override.host}`)) {
        return { authority, bucket: host.slice(0, -override.host.length - 1) };
      }
    }
    return denied(
      `the ${service.name} request goes to ${url.protocol}//${authority}, but ${override.variable} sends ${service.name} to ${expected}; the host signs only requests to that endpoint`,
    );
  }
  const regional = `${service.endpointPrefix}.${region}.${dnsSuffix(region)}`;
  if (secure && port === 443) {
    if (host === regional) return { authority, bucket: undefined };
    if (s3 && host.endsWith(`.${regional}`)) return { authority, bucket: host.slice(0, -regional.length - 1) };
  }
  return denied(
    `the ${service.name} request goes to ${url.protocol}//${authority}, which is not ${service.name}'s endpoint https://${regional}` +
      (s3 ? ` (or https://<bucket>.${regional})` : '') +
      `; the host signs AWS requests only for the service's own endpoint, or the one AWS_ENDPOINT_URL_${service.endpointVariable} names`,
  );
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The bucket `x-amz-copy-source` reads from (`/bucket/key` or `bucket/key`, URL-encoded). */
function copySourceBucket(value: string): string {
  const path = decodeSegment(value.split('?')[0] ?? '').replace(/^\//, '');
  const slash = path.indexOf('/');
  return slash < 0 ? path : path.slice(0, slash);
}

function s3Resources(
  url: URL,
  bucket: string | undefined,
  headers: GuestRequest['headers'],
): string[] | OutboundFailure {
  const named: string[] = [];
  if (bucket !== undefined) named.push(bucket);
  else if (url.pathname !== '/') {
    // `//payroll/key` names no bucket to this check, and who knows what to a server.
    const first = decodeSegment(url.pathname.split('/')[1] ?? '');
    if (first === '') return denied(`the S3 path ${url.pathname.slice(0, 100)} starts with an empty bucket name`);
    named.push(first);
  }
  // CopyObject and UploadPartCopy read another bucket: a copy from an ungranted bucket into a
  // granted one would be a read of the ungranted bucket.
  for (const source of headerValues(headers, 'x-amz-copy-source')) named.push(copySourceBucket(source));
  return named;
}

function bodyText(body: Uint8Array | undefined): string {
  return new TextDecoder().decode(body ?? new Uint8Array());
}

/** Every string value under one of `keys`, at any depth; iterative, so no nesting overflows it. */
function collectStrings(root: unknown, keys: ReadonlySet<string>, out: string[], mapKeysOf?: string): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string' && keys.has(key)) out.push(value);
      // BatchGetItem and BatchWriteItem name their tables as the keys of RequestItems.
      if (key === mapKeysOf && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        out.push(...Object.keys(value));
      }
      if (value !== null && typeof value === 'object') stack.push(value);
    }
  }
}

/** `arn:aws:dynamodb:eu-west-1:123:table/orders/stream/…` → `orders`; a name stays a name. */
function dynamodbTable(value: string): string {
  if (!value.startsWith('arn:')) return value;
  const resource = value.split(':').slice(5).join(':');
  const match = /^table\/([^/]+)/.exec(resource);
  return match?.[1] ?? value;
}

function dynamodbResources(request: GuestRequest): string[] | OutboundFailure {
  const target = headerValues(request.headers, 'x-amz-target');
  const operation = target.length === 1 ? /^DynamoDB_20120810\.(\w+)$/.exec(target[0] ?? '')?.[1] : undefined;
  if (operation === undefined) {
    return denied(
      'the DynamoDB request has no single X-Amz-Target: DynamoDB_20120810.<operation>, so its tables cannot be checked',
    );
  }
  if (DYNAMODB_PARTIQL.has(operation)) {
    return denied(
      `DynamoDB ${operation} (PartiQL) names tables inside its statement, which the host does not check; grant the whole service ("dynamodb" in ${AWS_GRANT_VARIABLE}) to use it`,
    );
  }
  const json = parseStrictJson(request.body);
  if (json === null || typeof json !== 'object') {
    return denied(
      `the DynamoDB ${operation} request's body is not one JSON object in UTF-8 without repeated keys, so its tables cannot be checked`,
    );
  }
  const names: string[] = [];
  collectStrings(json, DYNAMODB_TABLE_KEYS, names, 'RequestItems');
  return names.map(dynamodbTable);
}

/** A queue's name from its URL (`…/123456789012/orders`), ARN (`…:orders`) or name. */
function sqsQueue(value: string): string {
  if (value.startsWith('arn:')) return value.split(':').slice(5).join(':');
  if (/^https?:\/\//i.test(value)) {
    try {
      return decodeSegment(
        new URL(value).pathname
          .split('/')
          .filter((part) => part !== '')
          .at(-1) ?? '',
      );
    } catch {
      return value;
    }
  }
  return value;
}

function sqsResources(request: GuestRequest, url: URL): string[] | OutboundFailure {
  const names: string[] = [];
  const path = url.pathname.split('/').filter((part) => part !== '');
  if (path.length > 0) names.push(decodeSegment(path.at(-1) ?? ''));
  // The JSON protocol (current SDKs) and the query protocol (older ones; in the body or the
  // URL). Both are read whatever the headers say: the host must not guess the server's choice.
  if (headerValues(request.headers, 'x-amz-target').length > 0) {
    const json = parseStrictJson(request.body);
    if (json === undefined) {
      return denied('the SQS request body is not JSON in UTF-8 without repeated keys, so its queues cannot be checked');
    }
    collectStrings(json, SQS_QUEUE_KEYS, names);
  }
  for (const params of [new URLSearchParams(bodyText(request.body)), url.searchParams]) {
    for (const [key, value] of params) if (SQS_QUEUE_KEYS.has(key)) names.push(value);
  }
  return names.map(sqsQueue);
}

function resourceEntry(service: AwsService, name: string): string {
  return service.name === 'dynamodb' ? `dynamodb:table/${name}` : `${service.name}:${name}`;
}

/**
 * Decides, before anything is signed, whether a guest's request is an AWS request and whether
 * the host may sign it. `undefined`: not an AWS request (no `Authorization: AWS4-…`), for the
 * ordinary egress policy. Otherwise the checked target, or `EgressDenied` when the service or a
 * resource it names is not granted, the credential scope's region is not the function's, the
 * destination is not the service's endpoint (or its configured override), or the URL carries
 * presigning parameters. The credential scope of the guest's own (placeholder) signature names
 * the service and region; its signature itself is never trusted.
 *
 * ```ts
 * const target = classifyAwsRequest(request, awsConfig(process.env));
 * if (target === undefined) return outbound.send(request, options); // not AWS
 * if ('code' in target) return target; // refused, nothing signed
 * ```
 */
export function classifyAwsRequest(request: GuestRequest, config: AwsConfig): AwsTarget | OutboundFailure | undefined {
  const authorizations = headerValues(request.headers, 'authorization');
  const aws = authorizations.filter((value) => /^\s*AWS4-/i.test(value));
  if (aws.length === 0) return undefined;
  if (authorizations.length > 1)
    return failure('InvalidRequest', 'the request carries more than one Authorization header');
  const authorization = aws[0] ?? '';
  if (!/^\s*AWS4-HMAC-SHA256\s/.test(authorization)) {
    return denied(
      `the request is signed with ${authorization.trim().split(/\s/)[0]}; the host signs AWS requests with SigV4 (AWS4-HMAC-SHA256) only`,
    );
  }
  const scope = /Credential=[^/,\s]*\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(authorization);
  if (scope === null) {
    return failure(
      'InvalidRequest',
      'the AWS4-HMAC-SHA256 Authorization header has no Credential=<key>/<date>/<region>/<service>/aws4_request',
    );
  }
  const [, , region = '', name = ''] = scope;
  const service = AWS_SERVICES.get(name);
  const granted = config.grant.services.get(name);
  if (service === undefined || granted === undefined) {
    const hint =
      service === undefined
        ? `the host signs for ${[...AWS_SERVICES.keys()].join(', ')}`
        : `add "${name}" to ${AWS_GRANT_VARIABLE} to allow it`;
    return denied(`the guest called AWS service ${name}, which the function is not granted; ${hint}`);
  }
  if (config.region === undefined || region !== config.region) {
    return denied(
      `the ${name} request is for region ${region}, but the function's region (AWS_REGION) is ${config.region ?? 'not set'}`,
    );
  }

  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return failure('InvalidRequest', `"${request.url.slice(0, 200)}" is not an absolute URL`);
  }
  if (url.username !== '' || url.password !== '') {
    return failure('InvalidRequest', 'the URL carries credentials (user:password@)');
  }
  const destination = checkDestination(url, service, region, config.endpoints.get(name));
  if ('code' in destination) return destination;
  for (const key of url.searchParams.keys()) {
    if (PRESIGN_PARAMETERS.has(key.toLowerCase())) {
      return denied(
        `the ${name} request carries the presigning parameter ${key}; the host signs requests in headers only`,
      );
    }
  }

  let resources: string[] = [];
  if (granted.resources !== undefined) {
    const named =
      name === 's3'
        ? s3Resources(url, destination.bucket, request.headers)
        : name === 'dynamodb'
          ? dynamodbResources(request)
          : name === 'sqs'
            ? sqsResources(request, url)
            : [];
    if ('code' in named) return named;
    resources = named;
    for (const resource of resources) {
      if (!granted.resources.has(resource)) {
        const kind = service.resource?.kind ?? 'resource';
        return denied(
          `the ${name} request names the ${kind} "${resource.slice(0, 300)}", which the function is not granted; add "${resourceEntry(service, resource.slice(0, 300))}" to ${AWS_GRANT_VARIABLE} to allow it`,
        );
      }
    }
  }
  return { service, region, url, authority: destination.authority, resources };
}
