import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type EgressPolicy, grantsAddress, grantsHost, normalizeHost } from './egress-policy.js';
import { failure, type OutboundFailure } from './outbound-result.js';
import { specialAddressClass } from './special-addresses.js';

/** Resolves a name to every address it has, as `dns.lookup(name, { all: true })` does. */
export type Resolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Where a granted request goes: the address the policy checked, and nothing else. */
export interface EgressTarget {
  url: URL;
  secure: boolean;
  /** The URL's host without brackets: for SNI and certificate checks. */
  hostname: string;
  port: number;
  /** The checked address the connection must be made to. */
  address: string;
  family: 4 | 6;
}

/** The variable a message tells people to extend. */
export const GRANT_VARIABLE = 'WASI_LAMBDA_ALLOW_HOSTS';

function authority(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A request URL the client accepts, with its host normalised as grants are. */
export interface RequestUrl {
  url: URL;
  host: string;
  port: number;
}

/** The URL step of the check: http/https only, no userinfo, a valid host and port. */
export function parseRequestUrl(raw: string): RequestUrl | OutboundFailure {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return failure('InvalidRequest', `"${raw.slice(0, 200)}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return failure('InvalidRequest', `the scheme ${url.protocol} is not supported; use http: or https:`);
  }
  if (url.username !== '' || url.password !== '') {
    return failure(
      'InvalidRequest',
      'the URL carries credentials (user:password@); send them in an authorization header',
    );
  }
  const host = normalizeHost(url.hostname);
  if (host === undefined) return failure('InvalidRequest', `"${url.hostname}" is not a valid host name`);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  if (port < 1 || port > 65_535) return failure('InvalidRequest', `port ${url.port} is not a port from 1 to 65535`);
  return { url, host, port };
}

/**
 * Decides whether a request may leave, in this order: the URL (http/https only, no userinfo,
 * a valid port), the host grant, DNS resolution, then **every** resolved address: a loopback,
 * link-local, private, CGNAT, unspecified, multicast or reserved address (or an IPv4-mapped
 * form of one) is refused unless a grant names that address and port. The result pins the
 * connection to the first checked address, so a DNS answer that changes between this check
 * and the connect (rebinding) cannot move it.
 *
 * ```ts
 * const target = await checkEgress('https://api.example.com/v1', policy, systemResolver);
 * if ('code' in target) return target; // EgressDenied, InvalidRequest or DnsError
 * ```
 */
export async function checkEgress(
  request: string | RequestUrl,
  policy: EgressPolicy,
  resolve: Resolver,
): Promise<EgressTarget | OutboundFailure> {
  const parsed = typeof request === 'string' ? parseRequestUrl(request) : request;
  if ('code' in parsed) return parsed;
  const { url, host, port } = parsed;
  const where = authority(host, port);
  if (!grantsHost(policy, host, port)) {
    return failure('EgressDenied', `egress to ${where} is not granted; add "${where}" to ${GRANT_VARIABLE}`);
  }

  let addresses: readonly { address: string; family: number }[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return failure('DnsError', `${host} did not resolve (${typeof code === 'string' ? code : 'lookup failed'})`);
    }
    if (addresses.length === 0) return failure('DnsError', `${host} resolved to no address`);
  }

  for (const { address } of addresses) {
    const kind = specialAddressClass(address);
    if (kind === undefined) continue;
    const normalized = normalizeHost(address) ?? address;
    if (grantsAddress(policy, normalized, port)) continue;
    const grant = authority(normalized, port);
    return failure(
      'EgressDenied',
      `egress to ${where} is refused: ${host} resolves to ${address}, a ${kind} address; ` +
        `if that is intended, add "${grant}" to ${GRANT_VARIABLE}`,
    );
  }

  const first = addresses[0];
  if (first === undefined) return failure('DnsError', `${host} resolved to no address`);
  return {
    url,
    secure: url.protocol === 'https:',
    hostname: host,
    port,
    address: first.address,
    family: first.family === 6 ? 6 : 4,
  };
}
