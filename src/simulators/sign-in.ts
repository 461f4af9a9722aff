import { randomUUID } from 'node:crypto';
import type { MicrosoftAuth } from '../auth/microsoft.js';
import type { MicrosoftAccount } from '../store/types.js';

/**
 * Signs `username` in through the identity simulator as a browser would, without a browser: the
 * simulator completes the authorize step at once for a `login_hint` it knows. For the sandbox's demo
 * integration and for tests; a real sign-in goes through the API's redirect (`/auth/microsoft/callback`).
 */
export async function signInWithSimulator(auth: MicrosoftAuth, integrationId: string, username: string): Promise<MicrosoftAccount> {
  const state = randomUUID();
  const { authorizationUrl, codeVerifier } = await auth.beginSignIn(state);
  const url = new URL(authorizationUrl);
  url.searchParams.set('login_hint', username);
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`identity simulator answered ${res.status} to the authorize request`);
  const back = new URL(location);
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) {
    throw new Error(`sign-in refused: ${back.searchParams.get('error') ?? 'no code'} ${back.searchParams.get('error_description') ?? ''}`);
  }
  return auth.completeSignIn(integrationId, { code, codeVerifier });
}
