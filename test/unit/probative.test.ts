import { describe, expect, it } from 'vitest';
import { fitsPath, probativeFileName, receiptFileName, sanitizeSegment } from '../../src/sync/naming.js';
import { manifestKey, parseManifestKey, probativeStateOf } from '../../src/sync/probative.js';

const receipt = {
  attachmentId: 'a1b2c3d4-0000-4000-8000-000000000001',
  fileName: 'IMG_1001.JPEG',
  contentType: 'image/jpeg',
  emittedAt: '2026-03-14T10:00:00.000Z',
  timeZone: 'Europe/Paris',
  counterparty: 'Amazon EU',
  amount: 52.4,
  currency: 'EUR',
  side: 'debit',
};

describe('probative copy names', () => {
  it('puts the copy beside its receipt under the same base name, always as a PDF', () => {
    expect(probativeFileName('2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.jpg')).toBe('2026-03-14 Amazon EU -52.40 EUR a1b2c3d4-probative.pdf');
    expect(probativeFileName('2026-03-14 Amazon EU -52.40 EUR a1b2c3d4.pdf')).toBe('2026-03-14 Amazon EU -52.40 EUR a1b2c3d4-probative.pdf');
  });

  it('follows the receipt when it carries its fallback (full id) name', () => {
    const fallback = receiptFileName(receipt, receipt.attachmentId.length);
    expect(probativeFileName(fallback)).toBe(`2026-03-14 Amazon EU -52.40 EUR ${receipt.attachmentId}-probative.pdf`);
  });

  it('has a fallback with the full attachment id that differs from the first choice', () => {
    const name = receiptFileName(receipt);
    const first = probativeFileName(name);
    const fallback = probativeFileName(name, receipt.attachmentId);
    expect(fallback).toBe(`2026-03-14 Amazon EU -52.40 EUR a1b2c3d4 ${receipt.attachmentId}-probative.pdf`);
    expect(fallback.toLowerCase()).not.toBe(first.toLowerCase());
  });

  it('is deterministic and never collides with a receipt name (case-insensitively)', () => {
    const names = new Set<string>();
    for (const ext of ['pdf', 'png', 'jpg', 'bin']) {
      const original = receiptFileName({ ...receipt, fileName: `x.${ext}`, contentType: 'application/octet-stream' });
      names.add(original.toLowerCase());
      expect(probativeFileName(original)).toBe(probativeFileName(original));
    }
    for (const original of [...names]) expect(names.has(probativeFileName(original).toLowerCase())).toBe(false);
  });

  it('stays a valid OneDrive name within the path limit, even for the longest receipt name', () => {
    const longest = receiptFileName(
      { ...receipt, counterparty: '𝔄'.repeat(200), currency: 'ABCDEFGHIJ', amount: 123456789012.34, fileName: 'a.jpeg' },
      receipt.attachmentId.length,
    );
    for (const name of [probativeFileName(longest), probativeFileName(longest, receipt.attachmentId)]) {
      expect(name.length).toBeLessThanOrEqual(209);
      expect(sanitizeSegment(name, 'x')).toBe(name);
      expect(fitsPath(['Apps', 'a'.repeat(60), 'b'.repeat(87), '2026', '2026-03', name])).toBe(true);
    }
  });

  it('refuses an attachment id of another shape for the fallback', () => {
    expect(() => probativeFileName('x.pdf', 'a/b')).toThrow(/not of the form/);
  });
});

describe('probative state', () => {
  it('reads available only with a link and a size', () => {
    expect(probativeStateOf({ status: 'available', file_size: 12, url: 'https://s3/x' })).toEqual({ status: 'available', size: 12, url: 'https://s3/x' });
    expect(probativeStateOf({ status: 'available', url: 'https://s3/x' })).toEqual({ status: 'pending' });
    expect(probativeStateOf({ status: 'available', file_size: 12 })).toEqual({ status: 'pending' });
  });

  it('treats unknown statuses as not yet available, and no object as no copy', () => {
    expect(probativeStateOf({ status: 'pending' })).toEqual({ status: 'pending' });
    expect(probativeStateOf({ status: 'processing' })).toEqual({ status: 'pending' });
    expect(probativeStateOf({ status: 'unavailable' })).toEqual({ status: 'unavailable' });
    expect(probativeStateOf(undefined)).toEqual({ status: 'unavailable' });
    expect(probativeStateOf(null)).toEqual({ status: 'unavailable' });
  });
});

describe('manifest keys', () => {
  it('keys a copy by attachment id and kind, and reads the key back', () => {
    const id = receipt.attachmentId;
    expect(manifestKey(id, 'original')).toBe(id);
    expect(manifestKey(id, 'probative')).not.toBe(id);
    expect(parseManifestKey(manifestKey(id, 'probative'))).toEqual({ attachmentId: id, kind: 'probative' });
    expect(parseManifestKey(manifestKey(id, 'original'))).toEqual({ attachmentId: id, kind: 'original' });
  });
});
