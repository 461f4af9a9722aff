import { describe, expect, it } from 'vitest';
import { isNonPublicAddress, isNonPublicHost, publicOnlyLookup } from '../../src/http/address-guard.js';

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

  it('refuses, where the connection is made, a name that resolves to a non-public address', async () => {
    const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => publicOnlyLookup('localhost', {}, (e) => resolve(e)));
    expect(error?.code).toBe('ENONPUBLIC');
  });
});
