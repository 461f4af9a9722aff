import { describe, expect, it } from 'vitest';
import { parseDelivery } from '../../src/webhooks/delivery-schema.js';

const at = '2026-12-07T10:00:00.000Z';
const bytes = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));
const envelope = { id: 'evt-1', subscription_id: 'sub-1', organization_id: 'org-1', membership_id: 'm-1', created_at: at };

describe('parseDelivery', () => {
  it('keeps only the ids of a transaction event: nothing of amounts, labels or IBANs', () => {
    const parsed = parseDelivery(
      bytes({ ...envelope, type: 'v1/transactions', data: { event: 'updated', id: 'tx-1', amount: 52.4, label: 'Amazon', attachment_ids: ['att-1', 'att-2'], bank_account: { iban: 'FR76…' } } }),
      at,
    );
    expect(parsed?.action).toEqual({ kind: 'transaction', change: { transactionId: 'tx-1', attachmentIds: ['att-1', 'att-2'], receivedAt: at } });
  });

  it('takes a transaction without attachments', () => {
    expect(parseDelivery(bytes({ ...envelope, type: 'v1/transactions', data: { id: 'tx-1', attachment_ids: null } }), at)?.action).toEqual({
      kind: 'transaction',
      change: { transactionId: 'tx-1', attachmentIds: [], receivedAt: at },
    });
  });

  it('reads whose consent a revocation withdrew, and ignores types we do not subscribe to', () => {
    expect(parseDelivery(bytes({ ...envelope, type: 'v1/consent-revocations', data: { client_id: 'our-client' } }), at)?.action).toEqual({ kind: 'revocation', clientId: 'our-client' });
    expect(parseDelivery(bytes({ ...envelope, type: 'v1/cards', data: { id: 'card-1' } }), at)?.action).toEqual({ kind: 'ignored' });
  });

  it.each([
    ['not JSON', '{"id": '],
    ['a JSON array', '[1,2]'],
    ['malformed UTF-8', new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['no organization', { ...envelope, organization_id: undefined, type: 'v1/transactions', data: { id: 'tx-1' } }],
    ['a transaction without its id', { ...envelope, type: 'v1/transactions', data: { attachment_ids: [] } }],
    ['attachment ids not strings', { ...envelope, type: 'v1/transactions', data: { id: 'tx-1', attachment_ids: [1] } }],
    ['a revocation without client', { ...envelope, type: 'v1/consent-revocations', data: {} }],
    ['data not an object', { ...envelope, type: 'v1/transactions', data: 'tx-1' }],
  ])('refuses %s', (_name, body) => {
    expect(parseDelivery(body instanceof Uint8Array ? body : bytes(body), at)).toBeNull();
  });
});
