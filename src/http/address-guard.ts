/**
 * Which network addresses a download may reach. Qonto's attachment links point at public storage;
 * a link, or a redirect, towards a loopback, private, link-local (cloud metadata) or otherwise
 * non-public address is refused, so that a forged link cannot make the worker read internal services.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const NON_PUBLIC = new BlockList();
// IPv4: "this" network, private, shared (CGNAT), loopback, link-local, IETF protocol assignments,
// documentation, the 6to4 relay anycast, benchmarking, multicast and reserved (RFC 6890
// special-purpose registry).
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
// IPv6: IPv4-compatible (deprecated; unspecified and loopback included), IPv4-translated (SIIT),
// discard-only, the local-use NAT64 prefix, IETF protocol assignments (Teredo, ORCHID, …),
// documentation, site-local (deprecated), unique local, link-local, SRv6 SIDs and multicast.
// IPv4-mapped addresses are checked against the IPv4 ranges by BlockList itself; NAT64 and 6to4
// addresses by the IPv4 address they carry (embeddedIpv4).
for (const [network, prefix] of [
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['100::', 64],
  ['64:ff9b:1::', 48],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['3fff::', 20],
  ['5f00::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** True for an IP address that is not a public unicast address. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  if (family === 4) return NON_PUBLIC.check(address, 'ipv4');
  if (NON_PUBLIC.check(address, 'ipv6')) return true;
  const carried = embeddedIpv4(address);
  return carried !== null && NON_PUBLIC.check(carried, 'ipv4');
}

/** The IPv4 address a NAT64 (64:ff9b::/96, RFC 6052) or 6to4 (2002::/16, RFC 3056) address leads to. */
export function embeddedIpv4(address: string): string | null {
  const words = ipv6Words(address);
  if (!words) return null;
  const quad = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  if (words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0)) return quad(words[6]!, words[7]!);
  if (words[0] === 0x2002) return quad(words[1]!, words[2]!);
  return null;
}

/** The eight 16-bit words of a valid IPv6 address (`::` and a trailing dotted quad expanded). */
function ipv6Words(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const front = part(head);
  const back = part(tail);
  const gap = tail === undefined ? 0 : 8 - front.length - back.length;
  return [...front, ...Array<number>(gap).fill(0), ...back];
}

/** True for a URL host (name or literal, IPv6 in brackets) that is non-public on its face. */
export function isNonPublicHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || isNonPublicAddress(host);
}

/** True for a URL host that is this machine: localhost names, 127.0.0.0/8, ::1 (IPv4-mapped too). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  if (family === 0) return false;
  return LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for connections (net/tls `connect` options, via undici's Agent) that refuses a name
 * resolving to any non-public address: checked where the connection is made, so a name cannot
 * resolve one way when checked and another when connected.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((a) => isNonPublicAddress(a.address));
    if (refused) {
      const denied: NodeJS.ErrnoException = new Error(`${hostname} resolves to a non-public address`);
      denied.code = 'ENONPUBLIC';
      return callback(denied, []);
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}
