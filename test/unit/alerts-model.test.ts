import { describe, expect, it } from 'vitest';
import { alertsModel } from '../../src/api/pages/alerts-model.js';
import { formatInstant } from '../../src/api/pages/dashboard-model.js';

const ZONE = 'Europe/Berlin';
const inZone = (locale: 'en' | 'de') => (iso: string) => formatInstant(iso, locale, ZONE);

describe('dashboard alerts', () => {
  it('shows what is under way with what to do, hiding 90 % under a full drive, and the history in words (EN)', () => {
    const m = alertsModel(
      {
        active: [
          { condition: 'drive_full', startedAt: '2026-12-01T10:00:00.000Z', resolvedAt: null },
          { condition: 'drive_nearly_full', startedAt: '2026-12-01T10:00:00.000Z', resolvedAt: null },
        ],
        history: [
          { condition: 'drive_full', startedAt: '2026-12-01T10:00:00.000Z', resolvedAt: null },
          { condition: 'back_to_normal', startedAt: '2026-11-20T08:00:00.000Z', resolvedAt: '2026-11-20T08:00:00.000Z' },
          { condition: 'run_failed', startedAt: '2026-11-19T08:00:00.000Z', resolvedAt: '2026-11-20T08:00:00.000Z' },
        ],
      },
      'en',
      inZone('en'),
    );
    expect(m.banner).toEqual([
      { condition: 'drive_full', text: 'Your OneDrive is full (since Tue, 1 Dec 2026, 11:00 CET)', action: 'Free some space in OneDrive, then use "Sync now".' },
    ]);
    expect(m.history.map((h) => `${h.label} · ${h.when}`)).toEqual([
      'Your OneDrive is full · since Tue, 1 Dec 2026, 11:00 CET',
      'Back to normal · Fri, 20 Nov 2026, 09:00 CET',
      'The sync failed · Thu, 19 Nov 2026, 09:00 CET – Fri, 20 Nov 2026, 09:00 CET',
    ]);
  });

  it('speaks German', () => {
    const m = alertsModel({ active: [{ condition: 'reconnect_required', startedAt: '2026-12-01T10:00:00.000Z', resolvedAt: null }], history: [] }, 'de', inZone('de'));
    expect(m.heading).toBe('Warnungen');
    expect(m.banner[0]!.text).toMatch(/^Eine Anmeldung muss erneuert werden \(seit /);
    expect(m.banner[0]!.action).toBe('Melden Sie sich erneut an (unter „Ihre Aktion ist nötig“).');
    expect(m.emptyHistory).toBe('Bisher keine Warnungen.');
  });
});
