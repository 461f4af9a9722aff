import type { Client } from '@temporalio/client';
import { Hono, type Context } from 'hono';
import { reconnectSignal, workflowIdFor } from '../../workflows/messages.js';
import type { Sealer } from '../auth/crypto.js';
import type { QontoOAuth } from '../auth/qonto-oauth.js';
import { WorkOrSchoolAccountError, type MicrosoftAuth } from '../auth/microsoft.js';
import { SyncError } from '../errors.js';
import type { Store } from '../store/types.js';
import { ApiError } from './errors.js';
import { signInsToRestore } from './sign-in-again.js';
import { readStatus } from './status.js';
import { callbackQuery } from './schemas.js';
import { validate } from './validate.js';

/**
 * `GET /auth/microsoft/callback`: finishes the Microsoft sign-in started by Connect, then sends the
 * browser back to the setup page with the outcome in the query string.
 */
export function microsoftCallback(deps: {
  store: Store;
  sealer: Sealer;
  microsoftAuth: MicrosoftAuth;
  temporal: Client;
  /** OAuth mode: the Qonto sign-in Connect took, moved onto an existing integration whose Qonto access ended. */
  qontoOAuth?: Pick<QontoOAuth, 'transfer'>;
  /** OAuth mode: the browser finishing the sign-in must be signed in to the integration's organization. */
  organizationOf?: (c: Context) => Promise<string | null>;
}) {
  const app = new Hono();
  app.get('/', validate('query', callbackQuery), async (c) => {
    const q = c.req.valid('query');
    const signIn = await deps.store.takeSignIn(q.state, Date.now());
    if (!signIn) throw new ApiError(400, 'invalid_state', 'This sign-in link is unknown, already used or expired: click Connect again');
    const back = (params: Record<string, string>) => c.redirect(`/?${new URLSearchParams({ integration: signIn.integrationId, ...params })}`, 302);
    if (q.error || !q.code) return back({ error: q.error ?? 'no_code', message: q.error_description ?? 'Microsoft did not grant access' });

    const target = await deps.store.getIntegration(signIn.integrationId);
    if (!target || target.status === 'revoked') return back({ error: 'revoked', message: 'This integration was withdrawn meanwhile: connect again' });
    if (deps.organizationOf && (await deps.organizationOf(c)) !== target.organizationId) {
      throw new ApiError(403, 'forbidden', 'Finish the Microsoft sign-in in the browser that is signed in with Qonto for this organization');
    }
    const codeVerifier = deps.sealer.open(signIn.sealed, `sign-in:${q.state}`).toString();
    try {
      const account = await deps.microsoftAuth.completeSignIn(signIn.integrationId, { code: q.code, codeVerifier });
      if ((await deps.store.getIntegration(signIn.integrationId))?.status === 'revoked') {
        // Withdrawn while the user was at Microsoft: keep nothing.
        await deps.microsoftAuth.forget(signIn.integrationId);
        return back({ error: 'revoked', message: 'This integration was withdrawn meanwhile: connect again' });
      }
      const pending = await deps.store.updateIntegration(signIn.integrationId, { microsoftAccount: account });
      // The same Microsoft account connected again (after reconnect_required, say): resume that integration.
      const existing = (await deps.store.listIntegrations()).find(
        (i) =>
          i.id !== pending.id &&
          i.status !== 'revoked' &&
          i.organizationId === pending.organizationId &&
          i.microsoftAccount?.homeAccountId === account.homeAccountId,
      );
      if (!existing) return back({ connected: account.username });
      const current = await readStatus(deps, existing);
      const ended = current.status === 'reconnect_required' ? (current.signInEnded ?? 'unknown') : null;
      const restore = signInsToRestore(ended);
      if (restore.includes('qonto') && deps.qontoOAuth && (await deps.store.getTokenCache(pending.id, 'qonto'))) {
        await deps.qontoOAuth.transfer(pending.id, existing.id);
      }
      if (restore.includes('microsoft')) {
        await deps.microsoftAuth.transfer(pending.id, existing.id);
        await deps.store.updateIntegration(existing.id, { microsoftAccount: account });
      }
      // With it go the sign-ins not restored. Not revoked at Qonto: that would end the member's consent,
      // which the existing integration uses.
      await deps.store.deleteIntegration(pending.id);
      await deps.temporal.workflow.getHandle(workflowIdFor(existing.id)).signal(reconnectSignal).catch(() => {});
      return c.redirect(`/?${new URLSearchParams({ integration: existing.id, connected: account.username, resumed: 'true' })}`, 302);
    } catch (error) {
      if (error instanceof WorkOrSchoolAccountError) return back({ error: error.code ?? 'work_or_school_account', message: error.message });
      if (error instanceof SyncError) return back({ error: error.code ?? 'sign_in_failed', message: error.message });
      throw error;
    }
  });
  return app;
}
