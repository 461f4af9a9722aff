/**
 * Minimal JWT minting for simulated id tokens. HS256 with the simulator's own secret: MSAL decodes
 * id tokens but does not verify their signature, so only the header.payload.signature shape matters.
 */
import { createHmac } from 'node:crypto';

export function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export function signJwt(claims: Record<string, unknown>, secret: Buffer): string {
  const signingInput = `${base64urlJson({ typ: 'JWT', alg: 'HS256', kid: 'identity-simulator' })}.${base64urlJson(claims)}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}
