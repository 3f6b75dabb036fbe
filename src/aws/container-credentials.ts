import { inspect } from 'node:util';
import type { AwsIdentity, CredentialSource } from './aws-config.js';

/**
 * The authorization token file (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), read when credentials
 * are fetched; `node:fs/promises` is loaded then, not at every cold start.
 */
async function readTokenFile(path: string): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

/** Refreshed this long before they expire, so a request is never signed with keys about to lapse. */
const REFRESH_BEFORE_MS = 5 * 60_000;
/** The endpoint is local; an answer slower than this is a fault, not a queue. */
const FETCH_TIMEOUT_MS = 2_000;

/** Addresses plain HTTP may reach, as the AWS SDKs allow them: loopback, ECS's and EKS's agents. */
const HTTP_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '169.254.170.2', '169.254.170.23', '[fd00:ec2::23]']);

/** Why the host could not get the function's credentials. Never carries a key or the token. */
export class CredentialsUnavailable extends Error {
  override readonly name = 'CredentialsUnavailable';
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') {
    throw new CredentialsUnavailable(`the container credentials endpoint's answer has no ${name}`);
  }
  return value;
}

/**
 * Credentials from the container credentials endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`,
 * authorised by `AWS_CONTAINER_AUTHORIZATION_TOKEN` or the file
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` names), fetched by the host when first needed and
 * again shortly before they expire; concurrent requests share one fetch.
 *
 * ```ts
 * const source = new ContainerCredentials(new URL(env.AWS_CONTAINER_CREDENTIALS_FULL_URI), { token });
 * await source.identity(); // { accessKeyId, secretAccessKey, sessionToken }
 * ```
 */
export class ContainerCredentials implements CredentialSource {
  readonly #url: URL;
  readonly #token: { value?: string | undefined; file?: string | undefined };
  #current: { identity: AwsIdentity; refreshAt: number } | undefined;
  #pending: Promise<AwsIdentity> | undefined;

  constructor(url: URL, token: { value?: string | undefined; file?: string | undefined }) {
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && HTTP_HOSTS.has(url.hostname))) {
      throw new CredentialsUnavailable(
        `AWS_CONTAINER_CREDENTIALS_FULL_URI must be https: or http: to a loopback or container-agent address, not ${url.protocol}//${url.host}`,
      );
    }
    this.#url = url;
    this.#token = token;
  }

  identity(): Promise<AwsIdentity> {
    const current = this.#current;
    if (current !== undefined && Date.now() < current.refreshAt) return Promise.resolve(current.identity);
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<AwsIdentity> {
    const token = this.#token.file !== undefined ? (await readTokenFile(this.#token.file)).trim() : this.#token.value;
    let response: Response;
    try {
      response = await fetch(this.#url, {
        headers: token === undefined ? {} : { authorization: token },
        redirect: 'error',
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CredentialsUnavailable(
        `the container credentials endpoint ${this.#url.host} did not answer (${(err as Error).name})`,
      );
    }
    if (!response.ok) {
      throw new CredentialsUnavailable(
        `the container credentials endpoint ${this.#url.host} answered ${response.status}`,
      );
    }
    let body: Record<string, unknown>;
    try {
      body = (await response.json()) as Record<string, unknown>;
    } catch {
      throw new CredentialsUnavailable(`the container credentials endpoint ${this.#url.host} answered with no JSON`);
    }
    const identity: AwsIdentity = {
      accessKeyId: field(body, 'AccessKeyId'),
      secretAccessKey: field(body, 'SecretAccessKey'),
      ...(typeof body.Token === 'string' && body.Token !== '' ? { sessionToken: body.Token } : {}),
    };
    const expires = typeof body.Expiration === 'string' ? Date.parse(body.Expiration) : Number.NaN;
    // No expiry: reuse for a minute rather than fetch per request.
    const refreshAt = Number.isFinite(expires) ? expires - REFRESH_BEFORE_MS : Date.now() + 60_000;
    this.#current = { identity, refreshAt };
    return identity;
  }

  toJSON(): string {
    return '[ContainerCredentials]';
  }

  [inspect.custom](): string {
    return `[ContainerCredentials ${this.#url.host}]`;
  }
}
