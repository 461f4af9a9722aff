import { describe, expect, it } from 'vitest';
import { embeddedIpv4, isLoopbackHost, isNonPublicAddress, isNonPublicHost, publicOnlyLookup } from '../../src/http/address-guard.js';

describe('address guard', () => {
  it('tells public addresses from loopback, private, link-local and reserved ones, IPv4-mapped included', () => {
    for (const address of ['127.0.0.1', '10.0.0.8', '172.20.1.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1']) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
    for (const address of ['52.95.110.1', '8.8.8.8', '172.32.0.1', '2a05:d018::1', '::ffff:52.95.110.1']) {
      expect(isNonPublicAddress(address), address).toBe(false);
    }
    expect(isNonPublicHost('localhost')).toBe(true);
    expect(isNonPublicHost('LOCALHOST.')).toBe(true);
    expect(isNonPublicHost('db.localhost')).toBe(true);
    expect(isNonPublicHost('[::1]')).toBe(true);
    expect(isNonPublicHost('qonto-attachments.s3.eu-west-3.amazonaws.com')).toBe(false);
  });

  it('refuses IPv6 forms that lead to a non-public IPv4 address, and reserved IPv6 ranges', () => {
    const refused = [
      '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
      '64:ff9b::10.0.0.1',
      '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
      '64:ff9b:1::1', // local-use NAT64
      '2002:7f00:1::', // 6to4 of 127.0.0.1
      '2002:a9fe:a9fe::1',
      '::7f00:1', // IPv4-compatible 127.0.0.1
      '::8.8.8.8', // IPv4-compatible: deprecated, never a public destination
      '::ffff:0:7f00:1', // IPv4-translated
      'fec0::1', // site-local
      '2001:db8::1',
      '2001::1', // Teredo
      '100::1',
      '3fff::1',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.9',
      '192.88.99.1',
    ];
    for (const address of refused) expect(isNonPublicAddress(address), address).toBe(true);
    expect(isNonPublicHost('[64:ff9b::7f00:1]')).toBe(true);
    // A NAT64 or 6to4 address of a public IPv4 address (DNS64 networks hand these out) stays usable.
    for (const address of ['64:ff9b::808:808', '64:ff9b::8.8.8.8', '2002:808:808::1', '2606:4700::1111']) {
      expect(isNonPublicAddress(address), address).toBe(false);
    }
    expect(embeddedIpv4('64:ff9b::7f00:1')).toBe('127.0.0.1');
    expect(embeddedIpv4('2002:c0a8:101::')).toBe('192.168.1.1');
    expect(embeddedIpv4('2a05:d018::1')).toBeNull();
  });

  it('tells loopback hosts (a local simulator) from every other host', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '[::ffff:127.0.0.1]', 'sim.localhost']) expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['10.0.0.5', 'qonto.internal.example', '[fd00::1]', '0.0.0.0']) expect(isLoopbackHost(host), host).toBe(false);
  });

  it('refuses, where the connection is made, a name that resolves to a non-public address', async () => {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicOnlyLookup('localhost', {}, (e) => resolve(e)));
    expect(error?.code).toBe('ENONPUBLIC');
  });
});
