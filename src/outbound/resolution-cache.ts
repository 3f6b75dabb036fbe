import type { Resolver } from './egress-check.js';

/** How long a name's addresses are reused: a guest calling one API in a loop resolves it once. */
export const RESOLUTION_TTL_MS = 10_000;
/** Names remembered at most; the oldest is forgotten first. */
const MAX_NAMES = 128;

/**
 * A resolver that remembers each name's addresses for `ttlMs`. `dns.lookup` has no cache of
 * its own (getaddrinfo asks the resolver every time: ~1 ms against a VPC resolver, per call).
 * Safe for egress: what is cached is the raw answer, and every call still checks every address
 * and connects to the one it checked. Failures are not cached.
 *
 * ```ts
 * const resolve = cachedResolver(systemResolver);
 * await resolve('api.example.com'); // asks DNS
 * await resolve('api.example.com'); // answered from the cache for the next 10 s
 * ```
 */
export function cachedResolver(resolve: Resolver, ttlMs = RESOLUTION_TTL_MS): Resolver {
  const cache = new Map<string, { at: number; addresses: ReturnType<Resolver> }>();
  return (hostname) => {
    const now = performance.now();
    const hit = cache.get(hostname);
    if (hit !== undefined && now - hit.at < ttlMs) return hit.addresses;
    const addresses = resolve(hostname);
    cache.delete(hostname);
    if (cache.size >= MAX_NAMES) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(hostname, { at: now, addresses });
    // A failed lookup is asked again next time, not remembered.
    addresses.catch(() => {
      if (cache.get(hostname)?.addresses === addresses) cache.delete(hostname);
    });
    return addresses;
  };
}
