import { WasiLambdaError } from '../errors.js';

/** The variable that grants AWS services (and optionally resources) to the guest. */
export const AWS_GRANT_VARIABLE = 'WASI_LAMBDA_AWS';

/** What the host knows about one grantable service, so its endpoint can be checked exactly. */
export interface AwsService {
  /** The grant's name and the SigV4 signing name the guest's credential scope carries. */
  readonly name: string;
  /** The first label of its regional endpoint: `<endpointPrefix>.<region>.amazonaws.com`. */
  readonly endpointPrefix: string;
  /** The suffix of its `AWS_ENDPOINT_URL_<SERVICE>` variable (the SDK's service id, upper case). */
  readonly endpointVariable: string;
  /** What a resource entry names (`s3:<bucket>`), for services whose requests the host can read. */
  readonly resource?: { readonly kind: string; readonly example: string };
}

/**
 * Services a guest may be granted. A closed list, because the host must know each one's
 * endpoint to refuse a request that goes anywhere else. STS is deliberately absent: its
 * answers are credentials, so granting it would hand the guest keys after all.
 */
export const AWS_SERVICES: ReadonlyMap<string, AwsService> = new Map(
  (
    [
      {
        name: 's3',
        endpointPrefix: 's3',
        endpointVariable: 'S3',
        resource: { kind: 'bucket', example: 's3:my-bucket' },
      },
      {
        name: 'dynamodb',
        endpointPrefix: 'dynamodb',
        endpointVariable: 'DYNAMODB',
        resource: { kind: 'table', example: 'dynamodb:table/orders' },
      },
      {
        name: 'sqs',
        endpointPrefix: 'sqs',
        endpointVariable: 'SQS',
        resource: { kind: 'queue', example: 'sqs:orders-queue' },
      },
      { name: 'sns', endpointPrefix: 'sns', endpointVariable: 'SNS' },
      { name: 'lambda', endpointPrefix: 'lambda', endpointVariable: 'LAMBDA' },
      { name: 'secretsmanager', endpointPrefix: 'secretsmanager', endpointVariable: 'SECRETS_MANAGER' },
      { name: 'ssm', endpointPrefix: 'ssm', endpointVariable: 'SSM' },
      { name: 'kms', endpointPrefix: 'kms', endpointVariable: 'KMS' },
      { name: 'events', endpointPrefix: 'events', endpointVariable: 'EVENTBRIDGE' },
      { name: 'kinesis', endpointPrefix: 'kinesis', endpointVariable: 'KINESIS' },
      { name: 'logs', endpointPrefix: 'logs', endpointVariable: 'CLOUDWATCH_LOGS' },
      { name: 'states', endpointPrefix: 'states', endpointVariable: 'SFN' },
    ] satisfies AwsService[]
  ).map((service) => [service.name, service]),
);

/** One granted service: every resource (`resources` undefined) or only the named ones. */
export interface ServiceGrant {
  readonly service: AwsService;
  readonly resources: ReadonlySet<string> | undefined;
}

/** The services (and resources) the guest may call, by service name. Empty grants nothing. */
export interface AwsGrant {
  readonly services: ReadonlyMap<string, ServiceGrant>;
}

const VALID_FORMS =
  'use a service name, or a service and one resource: ' +
  `dynamodb, s3, sqs, s3:my-bucket, dynamodb:table/orders, sqs:orders-queue (services: ${[...AWS_SERVICES.keys()].join(', ')})`;

/** S3 bucket names (general purpose), DynamoDB table names, SQS queue names (with `.fifo`). */
const RESOURCE_NAME: Record<string, RegExp> = {
  s3: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  dynamodb: /^[A-Za-z0-9_.-]{3,255}$/,
  sqs: /^[A-Za-z0-9_-]{1,80}(\.fifo)?$/,
};

function invalid(entry: string, why: string): never {
  throw new WasiLambdaError(
    'INVALID_CONFIG',
    `${AWS_GRANT_VARIABLE} entry "${entry}" is not valid: ${why}; ${VALID_FORMS}`,
  );
}

function parseResource(entry: string, service: AwsService, raw: string): string {
  if (service.resource === undefined) {
    invalid(entry, `the host cannot tell which resource a ${service.name} request names, so grant the whole service`);
  }
  let name = raw;
  if (service.name === 'dynamodb') {
    if (!raw.startsWith('table/'))
      invalid(entry, `a DynamoDB resource is written table/<name>, as in ${service.resource.example}`);
    name = raw.slice('table/'.length);
  }
  const pattern = RESOURCE_NAME[service.name];
  if (pattern !== undefined && !pattern.test(name))
    invalid(entry, `"${name}" is not a valid ${service.resource.kind} name`);
  return name;
}

/**
 * Reads `WASI_LAMBDA_AWS`: comma-separated services, each optionally narrowed to resources.
 * A service listed bare grants all of its resources, whatever else names it; listed only
 * with resources, it grants those. Throws `INVALID_CONFIG` naming the first malformed entry.
 *
 * ```ts
 * const grant = parseAwsGrant('dynamodb:table/orders, s3:my-bucket, sqs');
 * grant.services.get('dynamodb')?.resources; // Set { 'orders' }
 * grant.services.get('sqs')?.resources; // undefined: every queue
 * ```
 */
export function parseAwsGrant(value: string | undefined): AwsGrant {
  const byService = new Map<string, { service: AwsService; all: boolean; resources: Set<string> }>();
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    const name = colon < 0 ? entry : entry.slice(0, colon);
    const service = AWS_SERVICES.get(name);
    if (service === undefined) {
      if (name === 'sts') invalid(entry, 'STS answers with credentials, which the guest must never hold');
      invalid(entry, `"${name}" is not a service the host can sign for`);
    }
    const current = byService.get(name) ?? { service, all: false, resources: new Set<string>() };
    byService.set(name, current);
    if (colon < 0) current.all = true;
    else current.resources.add(parseResource(entry, service, entry.slice(colon + 1)));
  }
  const services = new Map<string, ServiceGrant>();
  for (const [name, { service, all, resources }] of byService) {
    services.set(name, { service, resources: all ? undefined : resources });
  }
  return { services };
}
