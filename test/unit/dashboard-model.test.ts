import { describe, expect, it } from 'vitest';
import { dashboardModel, formatBytes, formatInstant } from '../../src/api/pages/dashboard-model.js';
import { MESSAGES } from '../../src/api/pages/i18n.js';
import type { FolderCounts } from '../../src/store/types.js';
import { statusBody } from '../support/status-body.js';

const en = MESSAGES.en;
const GiB = 1024 ** 3;

const status = statusBody;

const folder = (folderPath: string, exported: number, failed = 0, pending = 0): FolderCounts => ({ folderPath, exported, failed, pending, dismissed: 0, exportedBytes: 0 });

describe('dashboard model', () => {
  it('says the state in words and shows times in the integration zone', () => {
    const m = dashboardModel(
      status({
        lastRun: { kind: 'sync', startedAt: '2026-11-26T22:30:00.000Z', finishedAt: '2026-11-26T22:31:00.000Z', outcome: 'completed', exported: 3, failed: 1, bytes: 10, requeued: 0, dismissed: 0 },
      }),
      [],
      'en',
      en,
      'UTC',
    );
    expect(m.stateText).toBe('Up to date. Your receipts are safe in OneDrive.');
    expect(m.tone).toBe('ok');
    // 22:30Z is 23:30 in Paris in November (CET).
    expect(m.nextRun).toMatch(/27 Nov 2026.*23:30.*CET/);
    expect(m.lastRun).toMatch(/26 Nov 2026.*23:31.*completed, 3 exported, 1 to retry/);
  });

  it('uses the fallback zone when the integration has none yet, and German words in German', () => {
    const m = dashboardModel(status({ timeZone: null }), [], 'de', MESSAGES.de, 'America/New_York');
    expect(m.nextRun).toMatch(/27\. Nov\. 2026.*17:30/);
    expect(m.stateText).toBe('Aktuell. Ihre Belege sind sicher in OneDrive.');
    expect(m.lastRun).toBe('noch keiner');
  });

  it('shows a progress bar only while the first import runs', () => {
    const running = dashboardModel(status({ status: 'backfilling', backfill: { done: false, exported: 30, pending: 90 } }), [], 'en', en, 'UTC');
    expect(running.progress).toEqual({ done: 30, total: 120, percent: 25 });
    expect(running.refreshSeconds).toBe(2);
    expect(dashboardModel(status({ status: 'syncing', backfill: { done: true, exported: 30, pending: 1 } }), [], 'en', en, 'UTC').progress).toBeNull();
    expect(dashboardModel(status({ status: 'backfilling', backfill: null }), [], 'en', en, 'UTC').progress).toBeNull();
  });

  it('grades the storage gauge and asks for space when full', () => {
    const quota = (used: number, state: string) => ({ total: 5 * GiB, used, remaining: 5 * GiB - used, deleted: 0, state });
    const normal = dashboardModel(status({ quota: quota(1 * GiB, 'normal') }), [], 'en', en, 'UTC').gauge!;
    expect(normal).toMatchObject({ percent: 20, level: 'normal', warning: null, text: '1 GB of 5 GB used, 4 GB free' });
    expect(dashboardModel(status({ quota: quota(4.6 * GiB, 'nearing') }), [], 'en', en, 'UTC').gauge).toMatchObject({ level: 'nearing', warning: en.storageNearing });
    expect(dashboardModel(status({ quota: quota(4.9 * GiB, 'critical') }), [], 'en', en, 'UTC').gauge).toMatchObject({ level: 'critical', warning: en.storageCritical });
    const full = dashboardModel(status({ status: 'quota_exceeded', quota: quota(4.99 * GiB, 'critical') }), [], 'en', en, 'UTC');
    expect(full.gauge).toMatchObject({ level: 'full', warning: en.storageFull });
    expect(full.needs).toEqual(['free_space']);
    expect(full.tone).toBe('attention');
  });

  it('names the provider whose sign-in ended, in English and German', () => {
    const qonto = dashboardModel(status({ status: 'reconnect_required', signInEnded: 'qonto' }), [], 'en', en, 'UTC');
    expect(qonto.stateText).toBe('Qonto access has ended: sign in again to resume.');
    expect(qonto.reconnectText).toMatch(/^Qonto no longer accepts/);
    const microsoft = dashboardModel(status({ status: 'reconnect_required', signInEnded: 'microsoft' }), [], 'de', MESSAGES.de, 'UTC');
    expect(microsoft.stateText).toBe('Der Microsoft-Zugriff ist abgelaufen: melden Sie sich erneut an.');
    expect(microsoft.reconnectText).toMatch(/^Microsoft akzeptiert/);
    const unknown = dashboardModel(status({ status: 'reconnect_required' }), [], 'en', en, 'UTC');
    expect(unknown.stateText).toBe('Access has ended: sign in again to resume.');
    expect(unknown.stateText).not.toMatch(/Microsoft|Qonto/);
    expect(dashboardModel(status(), [], 'en', en, 'UTC').reconnectText).toBeNull();
  });

  it('in API-key mode, says a Qonto refusal is of the API key, which whoever runs the service replaces', () => {
    const reconnect = (signInEnded: 'qonto' | 'microsoft', locale: 'en' | 'de') =>
      dashboardModel(status({ status: 'reconnect_required', signInEnded }), [], locale, MESSAGES[locale], 'UTC', '23:30', true);
    expect(reconnect('qonto', 'en').stateText).toBe('Qonto refused the API key: syncing stopped until it is replaced.');
    expect(reconnect('qonto', 'en').reconnectText).toMatch(/^Qonto no longer accepts this service’s API key .* \(QONTO_API_LOGIN and QONTO_API_SECRET\) and restarts it/);
    expect(reconnect('qonto', 'en').reconnectText).not.toMatch(/sign in again, with Qonto/i);
    expect(reconnect('qonto', 'de').stateText).toBe('Qonto lehnt den API-Schlüssel ab: Die Synchronisierung ruht, bis er ersetzt ist.');
    expect(reconnect('qonto', 'de').reconnectText).toMatch(/^Qonto akzeptiert den API-Schlüssel dieses Dienstes nicht mehr/);
    // Microsoft's sign-in is the member's own in both modes.
    expect(reconnect('microsoft', 'en').reconnectText).toMatch(/^Microsoft no longer accepts this sign-in/);
  });

  it('says in German that the sync is resumed where it was interrupted', () => {
    for (const apiKeyMode of [false, true]) {
      for (const signInEnded of ['qonto', 'microsoft', null] as const) {
        const text = dashboardModel(status({ status: 'reconnect_required', signInEnded }), [], 'de', MESSAGES.de, 'UTC', '23:30', apiKeyMode).reconnectText;
        expect(text).toContain('Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde');
        // "fortsetzen" takes an object or "sich": "setzt dort fort, wo sie stand" is not German.
        expect(text).not.toContain('setzt dort fort');
      }
    }
  });

  it('lists what needs the user', () => {
    expect(dashboardModel(status({ status: 'reconnect_required' }), [], 'en', en, 'UTC').needs).toEqual(['reconnect']);
    expect(dashboardModel(status({ status: 'failed' }), [], 'en', en, 'UTC').needs).toEqual(['retry']);
    expect(dashboardModel(status(), [], 'en', en, 'UTC').needs).toEqual([]);
  });

  it('says when a failed run is tried again by itself, and why it failed', () => {
    const failed = dashboardModel(
      status({ status: 'failed', nextRunAt: '2026-11-27T10:05:00.000Z', lastError: 'drive check: HTTP 403' }),
      [],
      'en',
      en,
      'UTC',
    );
    expect(failed.retryAt).toMatch(/27 Nov 2026.*11:05.*CET/);
    expect(failed.nextRun).toBe(failed.retryAt);
    expect(en.retryText(failed.retryAt!)).toContain(failed.retryAt!);
    expect(dashboardModel(status({ status: 'failed', nextRunAt: null }), [], 'en', en, 'UTC').retryAt).toBeNull();
    expect(dashboardModel(status(), [], 'en', en, 'UTC').retryAt).toBeNull();
  });

  it('plans no run and stops refreshing once consent is withdrawn', () => {
    const m = dashboardModel(status({ status: 'revoked' }), [], 'en', en, 'UTC');
    expect(m.nextRun).toBe('not planned');
    expect(m.refreshSeconds).toBe(0);
    expect(m.tone).toBe('off');
  });

  it('groups receipts by account, newest period first', () => {
    const m = dashboardModel(
      status(),
      [folder('Main (1234)/2026/2026-09', 4), folder('Main (1234)/2026/2026-11', 2, 1), folder('Taxes (9876)/2025/2025-12', 1, 0, 3), folder('Main (1234)/2026/2026-10', 7)],
      'en',
      en,
      'UTC',
    );
    expect(m.accounts).toEqual([
      {
        account: 'Main (1234)',
        periods: [
          { period: '2026-11', exported: 2, failed: 1, pending: 0 },
          { period: '2026-10', exported: 7, failed: 0, pending: 0 },
          { period: '2026-09', exported: 4, failed: 0, pending: 0 },
        ],
      },
      { account: 'Taxes (9876)', periods: [{ period: '2025-12', exported: 1, failed: 0, pending: 3 }] },
    ]);
  });
});

describe('formatting', () => {
  it('formats sizes with the locale decimal separator', () => {
    expect(formatBytes(0, 'en')).toBe('0 B');
    expect(formatBytes(1536, 'en')).toBe('1.5 KB');
    expect(formatBytes(1536, 'de')).toBe('1,5 KB');
    expect(formatBytes(250 * 1024 ** 2, 'en')).toBe('250 MB');
  });

  it('formats an instant with the zone name so nobody has to guess', () => {
    expect(formatInstant('2026-07-01T21:30:00.000Z', 'en', 'Europe/Paris')).toMatch(/1 Jul 2026.*23:30.*CEST/);
    expect(formatInstant('2026-07-01T21:30:00.000Z', 'de', 'Europe/Berlin')).toMatch(/1\. Juli 2026.*23:30.*MESZ/);
  });
});
