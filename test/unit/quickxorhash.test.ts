import { referenceQuickXorHash } from '../support/reference-quickxorhash.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { QuickXorHash, quickXorHash } from '../../src/onedrive/quickxorhash.js';

function chunked(data: Uint8Array, size: number): string {
  const h = new QuickXorHash();
  for (let i = 0; i < data.length; i += size) h.update(data.subarray(i, i + size));
  return h.digest();
}

describe('quickXorHash', () => {
  it('matches the documented test vectors', () => {
    expect(quickXorHash(new Uint8Array())).toBe('AAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    expect(quickXorHash(Buffer.from('hello world'))).toBe('aCgDG9jwBhDc4Q1yawMZAAAAAAA=');
    expect(quickXorHash(Uint8Array.of(0x4a))).toBe('SgAAAAAAAAAAAAAAAQAAAAAAAAA=');
  });

  it('matches longer published vectors (rclone quickxorhash_test.go: sizes 16, 111, 222)', () => {
    const vectors: Array<[string, string]> = [
      ['2fuxhBJXtpWFe8dOfdGeHw==', 'O9tHLAghgSvYohKFyMMxnNCHaHg='],
      [
        'jyibxJSzO6ZiZ0O1qe3tG/bvIAYssvukh9suIT5wEy1JBINVgPiqdsTW0cOpP0aUfP7mgqLfADkzI/m/GgCuVhr8oFLrOCoTx1/psBOWwhltCbhUx51Icm9aH8tY4Z3ccU+6BKpYQkLCy0B/A9Zc',
        'hZfLIilSITC6N3e3tQ/iSgEzkto=',
      ],
      [
        'PfxMcUd0vIW6VbHG/uj/Y0W6qEoKmyBD0nYebEKazKaKG+UaDqBEcmQjbfQeVnVLuodMoPp7P7TR1htX5n2VnkHh22xDyoJ8C/ZQKiSNqQfXvh83judf4RVr9exJCud8Uvgip6aVZTaPrJHVjQhMCp/dEnGvqg0oN5OVkM2qqAXvA0teKUDhgNM71sDBVBCGXxNOR2bpbD1iM4dnuT0ey4L+loXEHTL0fqMeUcEi2asgImnlNakwenDzz0x57aBwyq3AspCFGB1ncX4yYCr/OaCcS5OKi/00WH+wNQU3',
        'QX/YEpG0gDsmhEpCdWhsxDzsfVE=',
      ],
    ];
    for (const [input, expected] of vectors) {
      const data = Buffer.from(input, 'base64');
      expect(quickXorHash(data)).toBe(expected);
      expect(referenceQuickXorHash(data)).toBe(expected);
      expect(chunked(data, 7)).toBe(expected);
    }
  });

  it('gives the same digest whatever the chunking, equal to the BigInt reference', () => {
    const data = randomBytes(1_000_003);
    const expected = referenceQuickXorHash(data);
    expect(quickXorHash(data)).toBe(expected);
    for (const size of [1, 3, 159, 160, 161, 4096, 65_537, 1 << 20]) expect(chunked(data, size)).toBe(expected);
    // Misaligned views exercise the byte path of the word fast path.
    const shifted = Buffer.alloc(data.length + 1);
    data.copy(shifted, 1);
    expect(chunked(shifted.subarray(1), 1600)).toBe(expected);
    // Unaligned chunks longer than the aligned scratch buffer (10 kB), each starting at another class.
    for (const size of [16_411, 66_001]) expect(chunked(shifted.subarray(1), size)).toBe(expected);
  });

  it('digest() does not disturb the running state', () => {
    const data = randomBytes(1000);
    const h = new QuickXorHash().update(data.subarray(0, 400));
    h.digest();
    expect(h.update(data.subarray(400)).digest()).toBe(quickXorHash(data));
  });
});
