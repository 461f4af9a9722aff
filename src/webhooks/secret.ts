import { randomBytes } from 'node:crypto';

/** Qonto's bounds for a subscription's secret. */
export const WEBHOOK_SECRET_MIN_LENGTH = 32;
export const WEBHOOK_SECRET_MAX_LENGTH = 128;

/** A fresh subscription secret: 48 random bytes, 64 base64url characters (within Qonto's bounds). */
export function generateWebhookSecret(): string {
  return randomBytes(48).toString('base64url');
}

/** Associated data binding a sealed secret to its integration: it opens nowhere else. */
export function webhookSecretAad(integrationId: string): string {
  return `webhook-secret:${integrationId}`;
}

/** QONTO_WEBHOOK_SECRET as a list: comma-separated, the first current, every one verifies (rotation). */
export function splitWebhookSecrets(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').map((s) => s.trim());
}

/** What is wrong with the list, naming each secret by position and length only (never echoing it). */
export function webhookSecretProblems(secrets: string[]): string[] {
  return secrets.flatMap((secret, i) =>
    secret.length < WEBHOOK_SECRET_MIN_LENGTH || secret.length > WEBHOOK_SECRET_MAX_LENGTH
      ? [`secret ${i + 1} has ${secret.length} characters; each must have ${WEBHOOK_SECRET_MIN_LENGTH} to ${WEBHOOK_SECRET_MAX_LENGTH} (Qonto's limits)`]
      : [],
  );
}
