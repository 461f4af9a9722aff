import { randomUUID } from 'node:crypto';
import type { MicrosoftAuth } from '../auth/microsoft.js';
import type { QontoOAuth } from '../auth/qonto-oauth.js';
import type { MicrosoftAccount } from '../store/types.js';

/** Follows an authorize URL as a browser would when the simulator completes it at once (`login_hint`). */
async function codeFrom(authorizationUrl: string, loginHint: string, state: string): Promise<string> {
  const url = new URL(authorizationUrl);
  url.searchParams.set('login_hint', loginHint);
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location');
  if (res.status !== 302 || !location) throw new Error(`simulator answered ${res.status} to the authorize request`);
  const back = new URL(location);
  const code = back.searchParams.get('code');
  if (!code || back.searchParams.get('state') !== state) {
    throw new Error(`sign-in refused: ${back.searchParams.get('error') ?? 'no code'} ${back.searchParams.get('error_description') ?? ''}`);
  }
  return code;
}

/**
 * Signs `username` in through the identity simulator without a browser: the simulator completes the
 * authorize step at once for a `login_hint` it knows. For tests and for the sandbox's restart; a real
 * sign-in goes through the API's redirect (`/auth/microsoft/callback`).
 */
export async function signInWithSimulator(auth: MicrosoftAuth, integrationId: string, username: string): Promise<MicrosoftAccount> {
  const state = randomUUID();
  const { authorizationUrl, codeVerifier } = await auth.beginSignIn(state);
  const code = await codeFrom(authorizationUrl, username, state);
  return auth.completeSignIn(integrationId, { code, codeVerifier });
}

/** The same for "Sign in with Qonto": the member (id or e-mail) consents and the tokens go to the integration. */
export async function signInToQontoWithSimulator(auth: QontoOAuth, integrationId: string, member: string): Promise<void> {
  const state = randomUUID();
  const code = await codeFrom(auth.authorizationUrl(state), member, state);
  await auth.save(integrationId, await auth.exchangeCode(code));
}
