/**
 * The body checks and JSON shape of Qonto's webhook subscriptions (docs/webhooks.md, Subscriptions):
 * `callback_url` (https, at most 512 characters), `types` (at least one known type), `secret` (32 to
 * 128 characters, generated when left out), `description` (at most 256). PUT replaces the
 * subscription, so it needs `callback_url` again.
 */
import type { SimWebhookSubscription } from './data.js';
import type { QontoErrorItem } from './respond.js';

export const WEBHOOK_TYPES = [
  'v1/transactions',
  'v1/consent-revocations',
  'v1/accounts',
  'v1/organizations',
  'v1/memberships',
  'v1/cards',
  'v1/clients',
];

export interface SubscriptionInput {
  callbackUrl: string;
  types?: string[];
  secret?: string;
  description?: string | null;
}

/** The input, or the errors of each field (Qonto's 422 items). `types` is required on create only. */
export function parseSubscriptionBody(
  body: unknown,
  opts: { allowHttpCallbacks: boolean; create: boolean },
): { ok: true; input: SubscriptionInput } | { ok: false; errors: QontoErrorItem[] } {
  const errors: QontoErrorItem[] = [];
  const fail = (field: string, detail: string): void => void errors.push({ code: 'invalid', detail, source: { pointer: `/${field}` } });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, errors: [{ code: 'invalid', detail: 'The body must be a JSON object' }] };
  }
  const b = body as Record<string, unknown>;

  const callbackUrl = b.callback_url;
  if (typeof callbackUrl !== 'string' || callbackUrl === '') fail('callback_url', 'CallbackURL is missing');
  else if (callbackUrl.length > 512) fail('callback_url', 'callback_url must be at most 512 characters');
  else {
    const protocol = URL.canParse(callbackUrl) ? new URL(callbackUrl).protocol : null;
    const allowed = opts.allowHttpCallbacks ? ['https:', 'http:'] : ['https:'];
    if (!protocol || !allowed.includes(protocol)) fail('callback_url', 'callback_url must be an https URL');
  }

  const types = b.types;
  if (types === undefined) {
    if (opts.create) fail('types', 'types is missing');
  } else if (!Array.isArray(types) || types.length === 0) fail('types', 'types must be a non-empty array');
  else if (!types.every((t) => typeof t === 'string' && WEBHOOK_TYPES.includes(t))) fail('types', `types must be among ${WEBHOOK_TYPES.join(', ')}`);

  const secret = b.secret;
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < 32 || secret.length > 128)) {
    fail('secret', 'secret must be between 32 and 128 characters');
  }

  const description = b.description;
  if (description !== undefined && description !== null && (typeof description !== 'string' || description.length > 256)) {
    fail('description', 'description must be at most 256 characters');
  }

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    input: {
      callbackUrl: callbackUrl as string,
      types: types as string[] | undefined,
      secret: secret as string | undefined,
      description: description as string | null | undefined,
    },
  };
}

export function subscriptionView(organizationId: string, s: SimWebhookSubscription): Record<string, unknown> {
  return {
    id: s.id,
    organization_id: organizationId,
    membership_id: s.membershipId,
    callback_url: s.callbackUrl,
    types: [...s.types],
    description: s.description,
    secret: s.secret,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
  };
}
