import { isIP, isIPv6 } from 'node:net';
import { WasiLambdaError } from '../errors.js';

/**
 * Ports a grant without `:port` opens: HTTP's and HTTPS's defaults. A bare host grants the
 * service people mean by its name, not every port on it: `api.example.com` does not reach an
 * admin listener on :8080 of the same machine; `api.example.com:8080` says so explicitly.
 */
export const DEFAULT_PORTS: readonly number[] = [80, 443];

/** One entry of a grant list, normalised: lower-case ASCII (punycode), no trailing dot. */
export type HostGrant =
  /** `api.example.com[:port]`: exactly that name. */
  | { kind: 'name'; host: string; ports: readonly number[] }
  /** `*.example.com[:port]`: any name below `example.com`, not `example.com` itself. */
  | { kind: 'suffix'; suffix: string; ports: readonly number[] }
  /** `10.0.0.5[:port]`, `[::1][:port]`: that address, even when it is loopback or private. */
  | { kind: 'address'; address: string; ports: readonly number[] };

/**
 * Where a guest's outbound requests may go. Plain data, so it crosses a worker boundary as is.
 * The empty policy (the default) grants nothing.
 */
export interface EgressPolicy {
  readonly grants: readonly HostGrant[];
}

export const NO_EGRESS: EgressPolicy = { grants: [] };

const VALID_FORMS =
  'use host, host:port, *.suffix or an IP address with an optional :port ' +
  '(api.example.com, api.example.com:8443, *.example.com, 10.0.0.5, 127.0.0.1:9000, [::1]:9000)';

/** DNS labels after punycode; `_` is accepted because real names carry it (`_acme`, some S3 buckets). */
const HOST_NAME =
  /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A host as the WHATWG URL parser normalises it (the same parser that reads the guest's URLs,
 * so a grant and a request can never disagree about a name): lower case, IDNs in punycode,
 * IPv6 without brackets, one trailing dot dropped. `undefined` if it is not a host.
 */
export function normalizeHost(host: string): string | undefined {
  const bracketed = isIPv6(host) ? `[${host}]` : host;
  let hostname: string;
  try {
    hostname = new URL(`http://${bracketed}/`).hostname;
  } catch {
    return undefined;
  }
  if (hostname.startsWith('[')) return hostname.slice(1, -1);
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (isIP(name) !== 0) return name;
  return HOST_NAME.test(name) ? name : undefined;
}

function invalid(source: string, entry: string, why: string): never {
  throw new WasiLambdaError('INVALID_CONFIG', `${source} entry "${entry}" is not valid: ${why}; ${VALID_FORMS}`);
}

/** Splits `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address. */
function splitHostPort(entry: string, source: string): { host: string; port: string | undefined } {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) invalid(source, entry, 'the "[" of an IPv6 address is never closed');
    const rest = entry.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) invalid(source, entry, 'only :port may follow "]"');
    const host = entry.slice(1, close);
    if (!isIPv6(host)) invalid(source, entry, `brackets hold an IPv6 address, and "${host}" is not one`);
    return { host, port: rest === '' ? undefined : rest.slice(1) };
  }
  const colons = entry.split(':').length - 1;
  // Two or more colons without brackets can only be an IPv6 address, which then has no port.
  if (colons >= 2) return { host: entry, port: undefined };
  const [host = '', port] = entry.split(':');
  return { host, port };
}

function parsePort(entry: string, port: string | undefined, source: string): readonly number[] {
  if (port === undefined) return DEFAULT_PORTS;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    invalid(source, entry, `"${port}" is not a port from 1 to 65535`);
  }
  return [Number(port)];
}

/**
 * One grant. `source` names where the entry came from, for the error message.
 *
 * ```ts
 * parseGrant('*.example.com:8443', 'WASI_LAMBDA_ALLOW_HOSTS');
 * // { kind: 'suffix', suffix: 'example.com', ports: [8443] }
 * ```
 */
export function parseGrant(entry: string, source: string): HostGrant {
  if (entry === '') invalid(source, entry, 'it is empty');
  if (/[\s/@?#\\]/.test(entry)) invalid(source, entry, 'a grant is a host and an optional port, not a URL');
  const { host, port } = splitHostPort(entry, source);
  const ports = parsePort(entry, port, source);
  if (host === '*') invalid(source, entry, 'a lone "*" would grant every host; list the hosts the function calls');
  if (host.startsWith('*.')) {
    const suffix = normalizeHost(host.slice(2));
    if (suffix === undefined || suffix.includes('*')) invalid(source, entry, `"${host.slice(2)}" is not a host name`);
    if (isIP(suffix) !== 0) invalid(source, entry, 'a wildcard applies to names, not IP addresses');
    if (!suffix.includes('.')) invalid(source, entry, `"*.${suffix}" would grant a whole top-level domain`);
    return { kind: 'suffix', suffix, ports };
  }
  if (host.includes('*')) invalid(source, entry, 'a wildcard is only allowed as a leading "*."');
  const normalized = normalizeHost(host);
  if (normalized === undefined) invalid(source, entry, `"${host}" is not a host name or IP address`);
  if (isIP(normalized) === 0) return { kind: 'name', host: normalized, ports };
  // 0x7f.1 and 127.1 parse as 127.0.0.1; a grant must say the address it grants plainly.
  if (isIP(host) === 0) invalid(source, entry, `write the address as ${normalized}`);
  return { kind: 'address', address: normalized, ports };
}

/**
 * A policy from grant entries; throws `INVALID_CONFIG` naming the first malformed one.
 *
 * ```ts
 * const policy = parseEgressPolicy(['api.example.com', '127.0.0.1:9000'], '--allow-host');
 * ```
 */
export function parseEgressPolicy(entries: readonly string[], source: string): EgressPolicy {
  return { grants: entries.map((entry) => parseGrant(entry, source)) };
}

/**
 * Whether the URL's host (as `normalizeHost` gives it) and port are granted: by name, by a
 * `*.suffix` below which the name lies, or, for an IP literal, by that address.
 */
export function grantsHost(policy: EgressPolicy, host: string, port: number): boolean {
  const literal = isIP(host) !== 0;
  return policy.grants.some((grant) => {
    if (!grant.ports.includes(port)) return false;
    if (grant.kind === 'address') return literal && grant.address === host;
    if (literal) return false;
    if (grant.kind === 'name') return grant.host === host;
    return host.endsWith(`.${grant.suffix}`);
  });
}

/** Whether an address grant names this resolved address and port explicitly. */
export function grantsAddress(policy: EgressPolicy, address: string, port: number): boolean {
  return policy.grants.some(
    (grant) => grant.kind === 'address' && grant.address === address && grant.ports.includes(port),
  );
}
