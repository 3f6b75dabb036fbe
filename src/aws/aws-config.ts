import { inspect } from 'node:util';
import { WasiLambdaError } from '../errors.js';
import { normalizeHost } from '../outbound/egress-policy.js';
import { AWS_GRANT_VARIABLE, type AwsGrant, parseAwsGrant } from './aws-grant.js';
import { ContainerCredentials } from './container-credentials.js';

/** What `@smithy/signature-v4` signs with. Never logged, never returned to the guest. */
export interface AwsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where the host gets the function's credentials from, each time it signs. */
export interface CredentialSource {
  identity(): Promise<AwsIdentity>;
}

/**
 * The function's credentials, held by the host only. The secret parts are private fields and
 * every way an object is usually printed (`JSON.stringify`, `console.log`, template strings)
 * shows a placeholder, so a log line or an error message cannot carry them by accident.
 */
export class AwsCredentials implements CredentialSource {
  readonly #accessKeyId: string;
  readonly #secretAccessKey: string;
  readonly #sessionToken: string | undefined;

  constructor(accessKeyId: string, secretAccessKey: string, sessionToken?: string) {
    this.#accessKeyId = accessKeyId;
    this.#secretAccessKey = secretAccessKey;
    this.#sessionToken = sessionToken;
  }

  identity(): Promise<AwsIdentity> {
    return Promise.resolve({
      accessKeyId: this.#accessKeyId,
      secretAccessKey: this.#secretAccessKey,
      ...(this.#sessionToken === undefined ? {} : { sessionToken: this.#sessionToken }),
    });
  }

  toJSON(): string {
    return '[AwsCredentials]';
  }

  toString(): string {
    return '[AwsCredentials]';
  }

  [inspect.custom](): string {
    return '[AwsCredentials]';
  }
}

/** Where a service's requests must go: an origin, as the WHATWG URL parser normalises it. */
export interface AwsEndpoint {
  readonly secure: boolean;
  /** Lower case, without brackets for IPv6 (as `normalizeHost` gives it). */
  readonly host: string;
  readonly port: number;
  /** The variable it came from, for messages. */
  readonly variable: string;
}

/** Everything AWS signing needs from the function's environment, read once. */
export interface AwsConfig {
  readonly grant: AwsGrant;
  /** `AWS_REGION` (or `AWS_DEFAULT_REGION`); requests for any other region are refused. */
  readonly region: string | undefined;
  /** Endpoint overrides by service name (`AWS_ENDPOINT_URL_<SERVICE>`, else `AWS_ENDPOINT_URL`). */
  readonly endpoints: ReadonlyMap<string, AwsEndpoint>;
  /** Undefined when the environment has none (then AWS requests are refused). */
  readonly credentials: CredentialSource | undefined;
}

const REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

function parseEndpoint(variable: string, raw: string): AwsEndpoint {
  const bad = (why: string): never => {
    throw new WasiLambdaError(
      'INVALID_CONFIG',
      `${variable}="${raw.slice(0, 200)}" is not a valid endpoint: ${why}; use a URL such as http://127.0.0.1:5000 or https://localstack.internal:4566`,
    );
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return bad('it is not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(`the scheme ${url.protocol} is not http: or https:`);
  if (url.username !== '' || url.password !== '') bad('it carries user:password@');
  if (url.search !== '' || url.hash !== '') bad('an endpoint has no query or fragment');
  if (url.pathname !== '/') bad('an endpoint with a path is not supported');
  const host = normalizeHost(url.hostname);
  if (host === undefined) return bad(`"${url.hostname}" is not a host`);
  const secure = url.protocol === 'https:';
  return { secure, host, port: url.port === '' ? (secure ? 443 : 80) : Number(url.port), variable };
}

const cache = new WeakMap<object, AwsConfig>();

/**
 * The AWS part of a function's configuration, read once per environment object: the grant
 * (`WASI_LAMBDA_AWS`), the region (`AWS_REGION`), endpoint overrides as the AWS SDKs read them
 * (`AWS_ENDPOINT_URL_<SERVICE>` before `AWS_ENDPOINT_URL`, both ignored when
 * `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`) and the credentials (`AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; without them, the container credentials
 * endpoint `AWS_CONTAINER_CREDENTIALS_FULL_URI`, fetched when first needed). Throws `INVALID_CONFIG` when something is
 * granted but the region is missing or malformed, or an endpoint is not a URL.
 *
 * ```ts
 * const aws = awsConfig(process.env);
 * aws.grant.services.has('dynamodb'); // WASI_LAMBDA_AWS=dynamodb
 * ```
 */
export function awsConfig(env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>): AwsConfig {
  const cached = cache.get(env);
  if (cached !== undefined) return cached;
  const grant = parseAwsGrant(env[AWS_GRANT_VARIABLE]);
  const rawRegion = env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
  if (grant.services.size > 0) {
    if (rawRegion === undefined) {
      throw new WasiLambdaError(
        'INVALID_CONFIG',
        `${AWS_GRANT_VARIABLE} grants AWS services but AWS_REGION is not set; set it to the function's region (Lambda sets it)`,
      );
    }
    if (!REGION.test(rawRegion)) {
      throw new WasiLambdaError(
        'INVALID_CONFIG',
        `AWS_REGION="${rawRegion.slice(0, 50)}" is not a region such as eu-west-1`,
      );
    }
  }
  const endpoints = new Map<string, AwsEndpoint>();
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() !== 'true') {
    const global = env.AWS_ENDPOINT_URL ? parseEndpoint('AWS_ENDPOINT_URL', env.AWS_ENDPOINT_URL) : undefined;
    for (const { service } of grant.services.values()) {
      const variable = `AWS_ENDPOINT_URL_${service.endpointVariable}`;
      const own = env[variable];
      const endpoint = own ? parseEndpoint(variable, own) : global;
      if (endpoint !== undefined) endpoints.set(service.name, endpoint);
    }
  }
  const config: AwsConfig = { grant, region: rawRegion, endpoints, credentials: credentialSource(env) };
  cache.set(env, config);
  return config;
}

/** The environment's keys, else its container credentials endpoint, as the AWS SDKs look. */
function credentialSource(env: Readonly<Record<string, string | undefined>>): CredentialSource | undefined {
  const { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: token } = env;
  if (id && secret) return new AwsCredentials(id, secret, token || undefined);
  const uri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (!uri) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new WasiLambdaError('INVALID_CONFIG', 'AWS_CONTAINER_CREDENTIALS_FULL_URI is not an absolute URL');
  }
  try {
    return new ContainerCredentials(url, {
      value: env.AWS_CONTAINER_AUTHORIZATION_TOKEN || undefined,
      file: env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE || undefined,
    });
  } catch (err) {
    throw new WasiLambdaError('INVALID_CONFIG', (err as Error).message);
  }
}
