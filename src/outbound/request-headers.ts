import { failure, type OutboundFailure } from './outbound-result.js';

/** RFC 9110 `token`: a method or a field name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a field value may hold on the wire (as Node checks it): no CR, LF, NUL or other controls. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Connection-management fields (RFC 9110 §7.6.1). The host stands between the guest and the
 * server as an intermediary, and the connection is the host's: a proxy must not forward these,
 * so they are dropped rather than refused (clients such as curl and hyper set `connection` or
 * `te` on their own, and refusing them would break ordinary code for no safety gained).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** At most this many bytes of request header names and values (servers rarely accept 16 KiB). */
export const MAX_REQUEST_HEADER_BYTES = 64 * 1024;

/** `api.example.com:443` names the same host as `https://api.example.com/`. */
function sameHost(value: string, url: URL): boolean {
  if (!/^[^/?#@\\\s]+$/.test(value)) return false;
  try {
    return new URL(`${url.protocol}//${value}/`).host === url.host;
  } catch {
    return false;
  }
}

function hopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name) || name.startsWith('proxy-');
}

/**
 * The headers to send, from the guest's list. `host` and `content-length` are computed from
 * the URL and the body; a guest value that agrees is accepted and one that disagrees is
 * refused, because a second meaning for either (a virtual host other than the granted one, a
 * length other than the body's) is how requests are smuggled. Hop-by-hop fields, the names
 * a `connection` field lists, and `proxy-*` are dropped.
 *
 * ```ts
 * requestHeaders([['Accept', 'application/json']], new URL('https://api.example.com/'), 0);
 * // { ok: true, headers: { host: 'api.example.com', accept: ['application/json'] } }
 * ```
 */
export function requestHeaders(
  headers: readonly (readonly [string, string])[],
  url: URL,
  bodyLength: number | undefined,
): { ok: true; headers: Record<string, string | string[]> } | OutboundFailure {
  // No prototype: a guest's header named `__proto__` or `constructor` is a header, nothing more.
  const out: Record<string, string[]> = Object.create(null);
  const dropped = new Set<string>();
  let bytes = 0;
  for (const [rawName, value] of headers) {
    if (!TOKEN.test(rawName)) return failure('InvalidRequest', `"${rawName.slice(0, 100)}" is not a valid header name`);
    if (!FIELD_VALUE.test(value)) {
      return failure(
        'InvalidRequest',
        `the ${rawName} header holds a character a header cannot carry (CR, LF, NUL, another control character, or one above U+00FF)`,
      );
    }
    bytes += rawName.length + value.length + 4;
    if (bytes > MAX_REQUEST_HEADER_BYTES) {
      return failure('InvalidRequest', `the request headers exceed ${MAX_REQUEST_HEADER_BYTES} bytes`);
    }
    const name = rawName.toLowerCase();
    if (name === 'connection') {
      for (const listed of value.split(',')) dropped.add(listed.trim().toLowerCase());
    }
    if (name === 'host') {
      if (!sameHost(value, url)) {
        return failure('InvalidRequest', `the host header "${value}" differs from the URL's host ${url.host}`);
      }
      continue;
    }
    if (name === 'content-length') {
      if (value.trim() !== String(bodyLength ?? 0)) {
        return failure('InvalidRequest', `content-length ${value} differs from the body's ${bodyLength ?? 0} bytes`);
      }
      continue;
    }
    if (hopByHop(name)) continue;
    const values = out[name];
    if (values === undefined) out[name] = [value];
    else values.push(value);
  }
  for (const name of dropped) {
    if (name !== 'host' && name !== 'content-length') delete out[name];
  }
  const result: Record<string, string | string[]> = { host: url.host, ...out };
  if (bodyLength !== undefined) result['content-length'] = String(bodyLength);
  return { ok: true, headers: result };
}

/** Whether a method name may be sent: a token, and not CONNECT (a tunnel, not a request). */
export function checkMethod(method: string): OutboundFailure | undefined {
  if (!TOKEN.test(method)) return failure('InvalidRequest', `"${method.slice(0, 100)}" is not a valid HTTP method`);
  if (method.toUpperCase() === 'CONNECT') return failure('InvalidRequest', 'CONNECT (tunnelling) is not supported');
  return undefined;
}

/**
 * The response's headers for the guest: lower-case names in the order received, repeats kept,
 * hop-by-hop fields dropped (the body arrives de-chunked, so `transfer-encoding` would lie).
 */
export function responseHeaders(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    if (!hopByHop(name)) out.push([name, raw[i + 1] ?? '']);
  }
  return out;
}
