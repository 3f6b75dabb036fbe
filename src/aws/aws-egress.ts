import { isIP } from 'node:net';
import {
  OutboundClient,
  type OutboundClientOptions,
  type OutboundRequest,
  type SendOptions,
} from '../outbound/client.js';
import { type EgressPolicy, type HostGrant, parseGrant } from '../outbound/egress-policy.js';
import { failure, type OutboundFailure, type OutboundResult } from '../outbound/outbound-result.js';
import { MAX_REQUEST_BODY_BYTES } from '../outbound/request-limits.js';
import type { AwsConfig } from './aws-config.js';
import { AWS_GRANT_VARIABLE } from './aws-grant.js';
import { classifyAwsRequest } from './aws-request.js';
import { AwsSigner } from './aws-signer.js';
import { CredentialsUnavailable } from './container-credentials.js';

/** What `prepareAwsRequest` needs, made once per function environment (`awsEgressContext`). */
export interface AwsEgressContext {
  readonly config: AwsConfig;
  readonly signer: AwsSigner | undefined;
}

/** The request to send, and for an AWS request the one `host:port` it was checked for. */
export interface PreparedRequest {
  request: OutboundRequest;
  /** Set for a signed AWS request: the destination egress must allow for it (and only for it). */
  grantedOrigin: string | undefined;
}

/**
 * The context for `prepareAwsRequest`, from `awsConfig(env)`.
 *
 * ```ts
 * const aws = awsEgressContext(awsConfig(process.env));
 * ```
 */
export function awsEgressContext(config: AwsConfig): AwsEgressContext {
  return { config, signer: config.credentials === undefined ? undefined : new AwsSigner(config.credentials) };
}

/**
 * What the host does with each guest request before the outbound client sees it. A request
 * without an `Authorization: AWS4-…` header is returned untouched (`grantedOrigin`
 * undefined): the function's egress policy decides. An AWS request is checked
 * (`classifyAwsRequest`: service, region, destination, resources) and, only if granted,
 * stripped of the guest's signing fields and signed with the function's credentials; its
 * `grantedOrigin` is the checked destination. Refusals are `EgressDenied` (or
 * `InvalidRequest`) and nothing is signed. Never rejects.
 *
 * ```ts
 * const prepared = await prepareAwsRequest(request, aws);
 * if ('code' in prepared) return prepared;
 * return (prepared.grantedOrigin === undefined ? outbound : awsOutbound).send(prepared.request, { deadlineMs });
 * ```
 */
export async function prepareAwsRequest(
  request: OutboundRequest,
  context: AwsEgressContext,
): Promise<PreparedRequest | OutboundFailure> {
  const target = classifyAwsRequest(request, context.config);
  if (target === undefined) return { request, grantedOrigin: undefined };
  if ('code' in target) return target;
  if (context.signer === undefined) {
    return failure(
      'EgressDenied',
      `the host has no AWS credentials to sign the ${target.service.name} request with; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (Lambda sets them from the function's role)`,
    );
  }
  if (request.body !== undefined && request.body.length > MAX_REQUEST_BODY_BYTES) {
    return failure(
      'InvalidRequest',
      `the request body is ${request.body.length} bytes; at most ${MAX_REQUEST_BODY_BYTES} are sent`,
    );
  }
  try {
    const signed = await context.signer.sign(request, target);
    if ('code' in signed) return signed;
    return { request: signed, grantedOrigin: target.authority };
  } catch (err) {
    // Neither the signer's errors nor CredentialsUnavailable name a key or a token.
    if (err instanceof CredentialsUnavailable) {
      return failure(
        'ConnectError',
        `the host has no credentials to sign the ${target.service.name} request with: ${err.message}`,
      );
    }
    return failure('InvalidRequest', `the ${target.service.name} request cannot be signed: ${(err as Error).message}`);
  }
}

function endpointGrant(host: string, port: number): HostGrant {
  return parseGrant(isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`, AWS_GRANT_VARIABLE);
}

/**
 * The egress policy for signed AWS requests: the function's own grants plus every endpoint
 * the AWS grant implies (the user does not list them in `WASI_LAMBDA_ALLOW_HOSTS` too).
 * `prepareAwsRequest` has already pinned each request to one of them; this policy is what
 * lets the outbound client connect there, with its address checks intact: an endpoint
 * override that is an IP literal (moto on 127.0.0.1) is granted as that address, while a
 * name that resolves to a loopback or private address still needs that address granted.
 *
 * ```ts
 * const awsOutbound = new OutboundClient({ policy: awsEgressPolicy(aws, policy) });
 * ```
 */
export function awsEgressPolicy(config: AwsConfig, base: EgressPolicy): EgressPolicy {
  const grants: HostGrant[] = [...base.grants];
  const region = config.region;
  if (region === undefined) return { grants };
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  for (const { service } of config.grant.services.values()) {
    const override = config.endpoints.get(service.name);
    if (override !== undefined) {
      grants.push(endpointGrant(override.host, override.port));
      if (service.name === 's3' && isIP(override.host) === 0 && override.host.includes('.')) {
        grants.push(parseGrant(`*.${override.host}:${override.port}`, AWS_GRANT_VARIABLE));
      }
      continue;
    }
    const regional = `${service.endpointPrefix}.${region}.${suffix}`;
    grants.push(parseGrant(`${regional}:443`, AWS_GRANT_VARIABLE));
    if (service.name === 's3') grants.push(parseGrant(`*.${regional}:443`, AWS_GRANT_VARIABLE));
  }
  return { grants };
}

/**
 * The guest's outbound HTTP with AWS signing in front: one `OutboundClient` for ordinary
 * requests under the function's policy, one for signed AWS requests under `awsEgressPolicy`.
 * Make one per host, as an `OutboundClient`; `send` never rejects.
 *
 * ```ts
 * const outbound = new AwsAwareOutbound(awsConfig(process.env), { policy: parseAllowHosts(process.env) });
 * const result = await outbound.send(request, { deadlineMs });
 * ```
 */
export class AwsAwareOutbound {
  readonly #plain: OutboundClient;
  readonly #aws: OutboundClient;
  readonly #context: AwsEgressContext;
  readonly #onDenied: ((message: string) => void) | undefined;

  constructor(config: AwsConfig, options: OutboundClientOptions) {
    this.#context = awsEgressContext(config);
    this.#onDenied = options.onDenied;
    this.#plain = new OutboundClient(options);
    this.#aws = new OutboundClient({ ...options, policy: awsEgressPolicy(config, options.policy) });
  }

  async send(request: OutboundRequest, options: SendOptions): Promise<OutboundResult> {
    const prepared = await prepareAwsRequest(request, this.#context);
    if ('code' in prepared) {
      if (prepared.code === 'EgressDenied') {
        try {
          this.#onDenied?.(prepared.message);
        } catch {
          // The log is the caller's; its failure must not turn a refusal into a rejection.
        }
      }
      return prepared;
    }
    const client = prepared.grantedOrigin === undefined ? this.#plain : this.#aws;
    return client.send(prepared.request, options);
  }

  close(): void {
    this.#plain.close();
    this.#aws.close();
  }
}
