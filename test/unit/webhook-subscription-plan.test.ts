import { describe, expect, it } from 'vitest';
import { FatalError, NotFoundError, ReconnectRequiredError } from '../../src/errors.js';
import { generateWebhookSecret, webhookSecretProblems } from '../../src/webhooks/secret.js';
import { attemptTag, isRefusal, ownsDescription, subscriptionDescription, subscriptionPlan, webhookCallbackUrl, type WebhookSettings } from '../../src/webhooks/subscription.js';

const oauth: WebhookSettings = { publicUrl: 'https://receipts.example.com', sandbox: false, qontoMode: 'oauth', webhookSecrets: [] };
const SECRET = 's'.repeat(64);

describe('subscriptionPlan', () => {
  it('subscribes in OAuth mode behind https, or in the sandbox over http', () => {
    expect(subscriptionPlan(oauth)).toEqual({ kind: 'subscribe' });
    expect(subscriptionPlan({ ...oauth, publicUrl: 'http://localhost:3000', sandbox: true })).toEqual({ kind: 'subscribe' });
  });

  it('cannot subscribe over plain http outside the sandbox (Qonto delivers to https only)', () => {
    expect(subscriptionPlan({ ...oauth, publicUrl: 'http://receipts.example.com' })).toEqual({ kind: 'unavailable', reason: 'insecure_public_url' });
  });

  it('API-key mode: the manual subscription when QONTO_WEBHOOK_SECRET is set, whatever the URL; else no secret', () => {
    const apiKey: WebhookSettings = { ...oauth, qontoMode: 'apiKey' };
    expect(subscriptionPlan({ ...apiKey, webhookSecrets: [SECRET] })).toEqual({ kind: 'manual' });
    expect(subscriptionPlan({ ...apiKey, publicUrl: 'http://localhost:3000', webhookSecrets: [SECRET] })).toEqual({ kind: 'manual' });
    expect(subscriptionPlan(apiKey)).toEqual({ kind: 'unavailable', reason: 'no_secret' });
  });
});

describe('webhook subscription helpers', () => {
  it("takes only Qonto's 403 for a refusal (missing scope); other failures are not", () => {
    expect(isRefusal(new FatalError('Qonto GET /v2/webhook_subscriptions answered 403', { status: 403 }))).toBe(true);
    expect(isRefusal(new FatalError('answered 422', { status: 422 }))).toBe(false);
    expect(isRefusal(new NotFoundError('answered 404', { status: 404 }))).toBe(false);
    expect(isRefusal(new ReconnectRequiredError('answered 401', { status: 401, provider: 'qonto' }))).toBe(false);
    expect(isRefusal(new Error('403'))).toBe(false);
  });

  it('delivers to PUBLIC_URL/webhooks/qonto, and names the integration in the description (at most 256 characters)', () => {
    expect(webhookCallbackUrl('https://receipts.example.com')).toBe('https://receipts.example.com/webhooks/qonto');
    const description = subscriptionDescription('3f2c9a56-0b1e-4d2a-9c8e-1f5a7b3c2d10');
    expect(description).toContain('3f2c9a56-0b1e-4d2a-9c8e-1f5a7b3c2d10');
    expect(description.length).toBeLessThanOrEqual(256);
  });

  it("names the attempt after its sealed secret, and knows the integration's descriptions from any attempt or none", () => {
    const sealed = Buffer.from('sealed secret of one attempt');
    const tag = attemptTag(sealed);
    expect(attemptTag(Buffer.from(sealed))).toBe(tag);
    expect(attemptTag(Buffer.from('sealed secret of another one'))).not.toBe(tag);
    expect(subscriptionDescription('i1', tag).length).toBeLessThanOrEqual(256);
    expect(ownsDescription('i1', subscriptionDescription('i1', tag))).toBe(true);
    expect(ownsDescription('i1', subscriptionDescription('i1'))).toBe(true);
    expect(ownsDescription('i1', subscriptionDescription('i10', tag))).toBe(false);
    expect(ownsDescription('i1', subscriptionDescription('i10'))).toBe(false);
    expect(ownsDescription('i1', null)).toBe(false);
  });

  it("generates a fresh 64-character secret within Qonto's bounds", () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^[\w-]{64}$/);
    expect(webhookSecretProblems([a])).toEqual([]);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});
