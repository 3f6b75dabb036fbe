import { WasiLambdaError } from '../errors.js';

/** Never handed to a guest, whatever the configuration says. */
export const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/**
 * Lambda's descriptive, non-secret variables: a handler may read them just as a native
 * handler would.
 */
export const ALWAYS_GRANTED = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'TZ',
  // Where the guest's AWS SDK sends (moto, LocalStack): the host signs only for the endpoint
  // these name, so the guest must see the same values. Not secret.
  'AWS_ENDPOINT_URL',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
] as const;

/** `AWS_ENDPOINT_URL_<SERVICE>`: per-service endpoints, granted with `AWS_ENDPOINT_URL`. */
const SERVICE_ENDPOINT = /^AWS_ENDPOINT_URL_[A-Z0-9_]+$/;

/**
 * Where the guest's AWS SDK should send and in which region: what a function that calls AWS
 * needs from its configuration besides its own variables. None of it is secret.
 *
 * ```ts
 * awsGuestVariables({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_SECRET_ACCESS_KEY: 'x' });
 * // { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }
 * ```
 */
export function awsGuestVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const names = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ENDPOINT_URL', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'];
  const granted: Record<string, string> = {};
  for (const name of [...names, ...Object.keys(env).filter((key) => SERVICE_ENDPOINT.test(key))]) {
    const value = env[name];
    if (value !== undefined) granted[name] = value;
  }
  return granted;
}

/** Names the function configuration grants, comma-separated: `STAGE,TABLE_NAME`. */
export const GRANT_VARIABLE = 'WASI_LAMBDA_ENV';

/**
 * The guest's environment: Lambda's descriptive variables plus the names listed in
 * `WASI_LAMBDA_ENV`, read from the process environment. Credentials are refused even when
 * listed, because a guest that holds them can act as the function's role.
 *
 * ```ts
 * guestEnvironment({ WASI_LAMBDA_ENV: 'STAGE', STAGE: 'prod', AWS_SECRET_ACCESS_KEY: 'x' });
 * // { STAGE: 'prod' }
 * ```
 */
export function guestEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const requested = (env[GRANT_VARIABLE] ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const refused = requested.filter((name) => (CREDENTIAL_VARIABLES as readonly string[]).includes(name));
  if (refused.length > 0) {
    throw new WasiLambdaError(
      'INVALID_CONFIG',
      `${GRANT_VARIABLE} lists ${refused.join(', ')}; AWS credentials are never passed to a wasm guest. ` +
        'Remove them from the list; call AWS from the host side instead.',
    );
  }
  const granted: Record<string, string> = {};
  const endpoints = Object.keys(env).filter((name) => SERVICE_ENDPOINT.test(name));
  for (const name of [...ALWAYS_GRANTED, ...endpoints, ...requested]) {
    const value = env[name];
    if (value !== undefined) granted[name] = value;
  }
  return granted;
}
