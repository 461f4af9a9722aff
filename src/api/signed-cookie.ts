import { createHmac } from 'node:crypto';
import type { Context } from 'hono';
import { getSignedCookie } from 'hono/cookie';

/** One cookie-signing secret per key, for one purpose: the first signs, every one verifies. */
export function signingSecrets(keys: readonly Buffer[], purpose: string): [string, ...string[]] {
  const [first, ...rest] = keys.map((key) => createHmac('sha256', key).update(purpose).digest('base64'));
  if (first === undefined) throw new Error('at least one cookie-signing key is needed');
  return [first, ...rest];
}

/** The cookie's value when any of `secrets` signed it (a cookie signed before a key rotation stays
 * valid while the old key is listed); undefined when missing or forged. */
export async function readSignedCookie(c: Context, secrets: readonly string[], name: string): Promise<string | undefined> {
  for (const secret of secrets) {
    const value = await getSignedCookie(c, secret, name);
    if (typeof value === 'string') return value;
  }
  return undefined;
}
