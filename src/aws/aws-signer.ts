import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { OutboundRequest } from '../outbound/client.js';
import { failure, type OutboundFailure } from '../outbound/outbound-result.js';
import { HOP_BY_HOP } from '../outbound/request-headers.js';
import type { CredentialSource } from './aws-config.js';
import type { AwsTarget, GuestRequest } from './aws-request.js';
import { NodeSha256 } from './node-sha256.js';

/**
 * Guest headers that never reach the signer: its own signature and what it derived from its
 * placeholder credentials, the fields the outbound client computes (`host`, `content-length`)
 * and hop-by-hop fields it drops (a signed header that is then not sent breaks the signature).
 */
const DROPPED = new Set([
  'authorization',
  'x-amz-date',
  'date',
  'x-amz-security-token',
  'x-amz-content-sha256',
  'host',
  'content-length',
  ...HOP_BY_HOP,
]);

/** Payload hashes S3 accepts whose body needs no per-chunk signature: signed as the guest chose. */
const UNSIGNED_PAYLOADS = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** One signer per service and region: it caches its derived signing keys (one per day). */
export class AwsSigner {
  readonly #credentials: CredentialSource;
  readonly #signers = new Map<string, SignatureV4>();

  constructor(credentials: CredentialSource) {
    this.#credentials = credentials;
  }

  #signer(service: string, region: string): SignatureV4 {
    const key = `${service}/${region}`;
    let signer = this.#signers.get(key);
    if (signer === undefined) {
      const credentials = this.#credentials;
      signer = new SignatureV4({
        service,
        region,
        credentials: () => credentials.identity(),
        sha256: NodeSha256,
        // S3 signs the path as sent; every other service signs it URI-encoded once more.
        uriEscapePath: service !== 's3',
        // Only S3 requires x-amz-content-sha256; the others are signed without adding it.
        applyChecksum: service === 's3',
      });
      this.#signers.set(key, signer);
    }
    return signer;
  }

  /**
   * The request the host sends: the guest's, without any signing field it supplied, signed
   * with the function's credentials for the checked target. S3's payload hash stays what the
   * guest's SDK chose: `UNSIGNED-PAYLOAD` (and `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, whose
   * chunks carry no signatures) as is, a hex hash only if it is the body's, none computed.
   * Chunk-signed uploads (`STREAMING-AWS4-*`) are refused: their chunks carry signatures made
   * with the placeholder key. Failures never contain credentials.
   *
   * ```ts
   * const signed = await signer.sign(request, target); // target from classifyAwsRequest
   * if ('code' in signed) return signed;
   * await outbound.send(signed, { deadlineMs });
   * ```
   */
  async sign(request: GuestRequest, target: AwsTarget, signingDate?: Date): Promise<OutboundRequest | OutboundFailure> {
    const service = target.service.name;
    // Without a prototype, a guest header named __proto__ or constructor is just a header.
    const headers: Record<string, string> = Object.create(null);
    const connectionListed = new Set<string>();
    for (const [name, value] of request.headers ?? []) {
      if (name.toLowerCase() === 'connection') {
        for (const listed of value.split(',')) connectionListed.add(listed.trim().toLowerCase());
      }
    }
    const payloadHashes: string[] = [];
    for (const [rawName, value] of request.headers ?? []) {
      const name = rawName.toLowerCase();
      if (name === 'x-amz-content-sha256') payloadHashes.push(value.trim());
      if (DROPPED.has(name) || connectionListed.has(name) || name.startsWith('proxy-')) continue;
      // Repeated fields are one field to a server (RFC 9110 §5.3) and to SigV4.
      headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
    }

    if (service === 's3' && payloadHashes.length > 0) {
      const [declared = ''] = payloadHashes;
      if (payloadHashes.length > 1) return failure('InvalidRequest', 'the request carries x-amz-content-sha256 twice');
      if (SHA256_HEX.test(declared)) {
        const actual = createHash('sha256')
          .update(request.body ?? new Uint8Array())
          .digest('hex');
        if (actual !== declared) {
          return failure(
            'InvalidRequest',
            `x-amz-content-sha256 is ${declared}, but the body's SHA-256 is ${actual}; the host signs only a hash that matches the body`,
          );
        }
      } else if (!UNSIGNED_PAYLOADS.has(declared)) {
        return failure(
          'InvalidRequest',
          declared.startsWith('STREAMING-')
            ? `S3 uploads with x-amz-content-sha256: ${declared.slice(0, 60)} sign every chunk with the guest's placeholder key; configure the SDK for a whole-body hash, UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER`
            : `x-amz-content-sha256 "${declared.slice(0, 80)}" is neither a hex SHA-256 nor UNSIGNED-PAYLOAD`,
        );
      }
      headers['x-amz-content-sha256'] = declared;
    }

    const { url } = target;
    headers.host = url.host;
    const query: Record<string, string | string[]> = Object.create(null);
    for (const pair of url.search.slice(1).split('&')) {
      if (pair === '') continue;
      const equals = pair.indexOf('=');
      let key: string;
      let value: string;
      try {
        key = decodeURIComponent(equals < 0 ? pair : pair.slice(0, equals));
        value = equals < 0 ? '' : decodeURIComponent(pair.slice(equals + 1));
      } catch {
        return failure('InvalidRequest', `the query parameter "${pair.slice(0, 100)}" is not valid percent-encoding`);
      }
      const existing = query[key];
      query[key] = existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value];
    }

    const signed = await this.#signer(service, target.region).sign(
      {
        method: request.method.toUpperCase(),
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query,
        headers,
        body: request.body,
      },
      signingDate === undefined ? {} : { signingDate },
    );
    return { ...request, headers: Object.entries(signed.headers) };
  }
}
