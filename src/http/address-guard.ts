/**
 * Which network addresses a download may reach. Qonto's attachment links point at public storage;
 * a link, or a redirect, towards a loopback, private, link-local (cloud metadata) or otherwise
 * non-public address is refused, so that a forged link cannot make the worker read internal services.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

const NON_PUBLIC = new BlockList();
// IPv4: "this" network, private, shared (CGNAT), loopback, link-local, IETF protocol assignments,
// benchmarking, multicast and reserved (RFC 6890 special-purpose registry).
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
// IPv6: unspecified, loopback, unique local, link-local, multicast (IPv4-mapped addresses are checked
// against the IPv4 ranges by BlockList itself).
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** True for an IP address that is not a public unicast address. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** True for a URL host (name or literal, IPv6 in brackets) that is non-public on its face. */
export function isNonPublicHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || isNonPublicAddress(host);
}

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
