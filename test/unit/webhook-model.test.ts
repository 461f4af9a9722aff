import { describe, expect, it } from 'vitest';
import { dashboardModel } from '../../src/api/pages/dashboard-model.js';
import { MESSAGES } from '../../src/api/pages/i18n.js';
import type { IntegrationStatusBody } from '../../src/api/status.js';
import { statusBody } from '../support/status-body.js';

function status(over: Partial<IntegrationStatusBody> = {}): IntegrationStatusBody {
  return statusBody({ timeZone: 'Europe/Berlin', nextRunAt: null, microsoftAccount: null, phase: null, backfill: null, ...over });
}

const en = (s: IntegrationStatusBody, syncTime?: string) => dashboardModel(s, [], 'en', MESSAGES.en, 'UTC', syncTime).webhooks;
const de = (s: IntegrationStatusBody) => dashboardModel(s, [], 'de', MESSAGES.de, 'UTC').webhooks;

describe('dashboard: Qonto webhooks', () => {
  it('says when the last Qonto event arrived, in the integration zone, or that none has yet', () => {
    const active = status({ webhook: { state: 'active', reason: null, lastEventAt: '2026-12-07T09:15:00.000Z' } });
    expect(en(active).lastEvent).toEqual({ label: 'Last Qonto event', value: expect.stringMatching(/7 Dec 2026.*10:15.*CET/) });
    expect(de(active).lastEvent).toEqual({ label: 'Letzte Qonto-Meldung', value: expect.stringMatching(/7\. Dez\. 2026.*10:15/) });
    expect(en(status({ webhook: { state: 'manual', reason: null, lastEventAt: null } })).lastEvent?.value).toBe('none yet');
    expect(en(active).onceADay).toBeNull();
  });

  it('shows nothing before the first attempt to subscribe, nor while it is being created', () => {
    expect(en(status())).toEqual({ lastEvent: null, onceADay: null, withdrawnInQonto: null });
    expect(en(status({ webhook: { state: 'creating', reason: null, lastEventAt: null } }))).toEqual({ lastEvent: null, onceADay: null, withdrawnInQonto: null });
  });

  it('says why updates come once a day only, with the daily run time, in English and German', () => {
    const unavailable = (reason: NonNullable<IntegrationStatusBody['webhook']>['reason']) => status({ webhook: { state: 'unavailable', reason, lastEventAt: null } });
    expect(en(unavailable('insecure_public_url')).onceADay).toBe('Updates once a day (23:30): Qonto can only notify this service at a public https address (PUBLIC_URL).');
    expect(en(unavailable('missing_scope'), '06:00').onceADay).toBe('Updates once a day (06:00): sign in with Qonto again to allow instant updates (webhooks).');
    expect(en(unavailable('api_key_no_permission')).onceADay).toBe('Updates once a day (23:30): ask Qonto to allow webhooks for your API key.');
    expect(en(unavailable('no_secret')).onceADay).toBe('Updates once a day (23:30): no webhook secret is configured (QONTO_WEBHOOK_SECRET).');
    expect(de(unavailable('missing_scope')).onceADay).toBe(
      'Aktualisierung einmal täglich (23:30): melden Sie sich erneut bei Qonto an, um sofortige Aktualisierungen (Webhooks) zu erlauben.',
    );
    expect(en(unavailable('missing_scope')).lastEvent).toBeNull();
  });

  it('names the real next run (SYNC_TIME plus the spread offset), in the integration zone, in English and German', () => {
    const waiting = status({ nextRunAt: '2026-12-07T22:44:07.000Z', webhook: { state: 'unavailable', reason: 'insecure_public_url', lastEventAt: null } });
    expect(en(waiting).onceADay).toMatch(/^Updates once a day, next at .*7 Dec 2026.*23:44.*CET: Qonto can only notify this service at a public https address \(PUBLIC_URL\)\.$/);
    expect(de(waiting).onceADay).toMatch(/^Aktualisierung einmal täglich, nächste am .*7\. Dez\. 2026.*23:44.*: Qonto kann diesen Dienst/);
  });

  it('says a revoked integration lost its consent in Qonto, and nothing of its webhooks', () => {
    const revoked = status({ status: 'revoked', revokedReason: 'withdrawn_in_qonto', webhook: { state: 'revoked', reason: null, lastEventAt: '2026-12-07T09:15:00.000Z' } });
    expect(en(revoked)).toEqual({ lastEvent: null, onceADay: null, withdrawnInQonto: 'Consent withdrawn in Qonto.' });
    expect(de(revoked).withdrawnInQonto).toBe('Einwilligung in Qonto widerrufen.');
    expect(en(status({ status: 'revoked', revokedReason: 'withdrawn_here' })).withdrawnInQonto).toBeNull();
  });
});
