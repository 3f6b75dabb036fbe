import { isIPv4, isIPv6 } from 'node:net';

/**
 * Why an address is not on the public internet. A guest that reaches one of these reaches
 * something of the host's own: the Runtime API on loopback, the instance metadata and
 * credentials endpoints on link-local, the VPC behind a private range.
 */
export type SpecialAddressClass =
  | 'loopback'
  | 'link-local'
  | 'private'
  | 'carrier-grade NAT'
  | 'unspecified'
  | 'multicast'
  | 'reserved';

/** IPv4 ranges as [first octets as a 32-bit number, prefix length, class]. */
const IPV4_RANGES: readonly (readonly [number, number, SpecialAddressClass])[] = [
  // 0.0.0.0/8 "this network": Linux connects 0.0.0.0 to the local host.
  [0x00000000, 8, 'unspecified'],
  [0x0a000000, 8, 'private'],
  [0x64400000, 10, 'carrier-grade NAT'],
  [0x7f000000, 8, 'loopback'],
  // 169.254.169.254 (instance metadata) and 169.254.170.2 (container credentials) live here.
  [0xa9fe0000, 16, 'link-local'],
  [0xac100000, 12, 'private'],
  [0xc0a80000, 16, 'private'],
  [0xe0000000, 4, 'multicast'],
  // 240.0.0.0/4 reserved, including the broadcast address 255.255.255.255.
  [0xf0000000, 4, 'reserved'],
];

function ipv4Number(address: string): number {
  let value = 0;
  for (const part of address.split('.')) value = value * 256 + Number(part);
  return value;
}

function classifyIPv4(value: number): SpecialAddressClass | undefined {
  for (const [base, bits, kind] of IPV4_RANGES) {
    // `>>> 0` keeps the arithmetic unsigned; a /32-bit shift is never needed here (bits ≥ 4).
    const mask = (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === base) return kind;
  }
  return undefined;
}

/** An IPv6 address as eight 16-bit groups; accepts `::` and a trailing dotted IPv4. */
function ipv6Groups(address: string): number[] {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  let text = bare;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1] !== undefined) {
    const v4 = ipv4Number(dotted[1]);
    text = `${text.slice(0, dotted.index)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)));
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function embeddedIPv4(groups: readonly number[], at: number): number {
  return ((groups[at] ?? 0) * 0x10000 + (groups[at + 1] ?? 0)) >>> 0;
}

function classifyIPv6(groups: readonly number[]): SpecialAddressClass | undefined {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroTo4 = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (zeroTo4 && g5 === 0 && g6 === 0) {
    if (g7 === 0) return 'unspecified';
    if (g7 === 1) return 'loopback';
  }
  // ::ffff:a.b.c.d reaches the IPv4 address itself on a dual-stack socket.
  if (zeroTo4 && g5 === 0xffff) return classifyIPv4(embeddedIPv4(groups, 6));
  // ::a.b.c.d, the deprecated IPv4-compatible form: nothing legitimate uses it.
  if (zeroTo4 && g5 === 0) return 'reserved';
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address a gateway may reach.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyIPv4(embeddedIPv4(groups, 6));
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private';
  if (g0 === 0x2002) return classifyIPv4(embeddedIPv4(groups, 1));
  if ((g0 & 0xfe00) === 0xfc00) return 'private';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  // fec0::/10, the deprecated site-local range: private in practice.
  if ((g0 & 0xffc0) === 0xfec0) return 'private';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  return undefined;
}

/**
 * The class of a non-public IP address, or `undefined` for a public one. IPv4-mapped,
 * NAT64 and 6to4 IPv6 forms are judged by the IPv4 address they carry.
 *
 * ```ts
 * specialAddressClass('169.254.169.254'); // 'link-local'
 * specialAddressClass('::ffff:10.0.0.1'); // 'private'
 * specialAddressClass('93.184.216.34'); // undefined
 * ```
 */
export function specialAddressClass(address: string): SpecialAddressClass | undefined {
  if (isIPv4(address)) return classifyIPv4(ipv4Number(address));
  const bare = address.replace(/^\[|\]$/g, '');
  if (isIPv6(bare)) return classifyIPv6(ipv6Groups(bare));
  // Not an IP address at all: refuse rather than guess.
  return 'reserved';
}
