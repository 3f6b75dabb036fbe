import { WasiLambdaError } from '../errors.js';

/** Never handed to a guest, whatever the configuration says. */
export const CREDENTIAL_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;

/**
 * Where the guest's AWS SDK sends and in which region (moto, LocalStack): the host signs only
 * for the endpoint these name, so the guest must see the same values. Not secret, as long as
 * an endpoint carries no `user:password@` (refused below).
 */
const AWS_DESTINATION = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ENDPOINT_URL',
  'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS',
] as const;

/**
 * Lambda's descriptive, non-secret variables: a handler may read them just as a native
 * handler would.
 */
export const ALWAYS_GRANTED = [
  ...AWS_DESTINATION,
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'TZ',
] as const;

/** `AWS_ENDPOINT_URL_<SERVICE>`: per-service endpoints, granted with `AWS_ENDPOINT_URL`. */
const SERVICE_ENDPOINT = /^AWS_ENDPOINT_URL_[A-Z0-9_]+$/;

/**
 * The values of `names` that are set, plus every `AWS_ENDPOINT_URL_<SERVICE>`. An endpoint URL
 * with `user:password@` is refused rather than shown to the guest: those would be secrets.
 */
function pick(env: Readonly<Record<string, string | undefined>>, names: readonly string[]): Record<string, string> {
  const granted: Record<string, string> = {};
  for (const name of [...names, ...Object.keys(env).filter((key) => SERVICE_ENDPOINT.test(key))]) {
    const value = env[name];
    if (value === undefined) continue;
    if (name.startsWith('AWS_ENDPOINT_URL') && carriesUserinfo(value)) {
      throw new WasiLambdaError(
        'INVALID_CONFIG',
        `${name} carries user:password@, which the wasm guest would see; remove the credentials from the URL`,
      );
    }
    granted[name] = value;
  }
  return granted;
}

function carriesUserinfo(value: string): boolean {
  try {
    const url = new URL(value);
    return url.username !== '' || url.password !== '';
  } catch {
    // Not a URL at all: the AWS grant refuses it with its own message when it is used.
    return value.includes('@');
  }
}

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
  return pick(env, AWS_DESTINATION);
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
  return pick(env, [...ALWAYS_GRANTED, ...requested]);
}
