import type { SignInProvider } from '../errors.js';

/**
 * Connecting again with the Microsoft account of an existing integration brings two fresh sign-ins
 * (Qonto's, in OAuth mode, and Microsoft's). Which of them replace the integration's own:
 * - the provider whose sign-in ended, and only that one (the other still works, and a Qonto refresh
 *   token replaced while valid would stay alive at Qonto, unused);
 * - nothing ended (the same account connected again): the Microsoft sign-in, as before;
 * - access ended but whose is not known (no worker answered): both, since both are fresh.
 */
export function signInsToRestore(ended: SignInProvider | 'unknown' | null): SignInProvider[] {
  if (ended === 'unknown') return ['microsoft', 'qonto'];
  return [ended ?? 'microsoft'];
}
