import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_CONDITIONS, type AlertCondition } from '../../src/alerts/conditions.js';
import { smtpMailer, type Mailer } from '../../src/alerts/mailer.js';
import { alertService } from '../../src/alerts/service.js';
import type { MailLanguage } from '../../src/alerts/templates.js';
import { openSqliteStoreReady } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';
import { TestSmtp, type ReceivedMail } from '../support/smtp.js';

// Every alert condition, in English and in German, as the person receives it: the alert service
// (real store) mails it through a real SMTP server on loopback. The expected words are written out
// here, so a German text that is missing or falls back to English fails.
const PUBLIC_URL = 'https://receipts.example.com/belege';
const NOW = '2030-01-01T00:00:00.000Z';

let smtp: TestSmtp;
let store: Store;
let mailer: Mailer & { close(): void };
let service: Service;
beforeAll(async () => {
  smtp = await TestSmtp.start();
  mailer = smtpMailer(smtp.url, 'alerts@receipts.example.com');
  store = await openSqliteStoreReady(':memory:');
  service = alertService({ store, mailer, publicUrl: PUBLIC_URL, alertTo: null, apiKeyMode: false, periodReminder: true });
});
afterAll(async () => {
  await store?.close();
  mailer?.close();
  await smtp?.close();
});

type Service = ReturnType<typeof alertService>;

interface Case {
  /** The condition whose mail this is. */
  condition: AlertCondition;
  /** Distinguishes the cases of one condition (whose sign-in ended). */
  variant?: string;
  /** Makes the condition happen to integration `id`, which completed a run an hour before NOW. */
  trigger(service: Service, id: string): Promise<unknown>;
  /** Which mail of the trigger is this condition's (the others said what came before). */
  mailIndex?: number;
  /** `alerts` or `missing`: the dashboard's section the link opens; `home`: a new connection. */
  link: 'alerts' | 'missing' | 'home';
  words: Record<MailLanguage, { subject: string; sentence: string }>;
}

const run = (outcome: 'failed' | 'quota_exceeded' | 'completed' | 'reconnect_required', over: object = {}) => ({ outcome, finishedAt: NOW, quota: null, ...over });

const CASES: Case[] = [
  {
    condition: 'run_failed',
    trigger: (s, id) => s.runEnded(id, run('failed')),
    link: 'alerts',
    words: {
      en: { subject: 'Receipts sync failed', sentence: 'The sync of your Qonto receipts to OneDrive failed, even after trying again.' },
      de: { subject: 'Belegsynchronisierung fehlgeschlagen', sentence: 'Die Synchronisierung Ihrer Qonto-Belege mit OneDrive ist fehlgeschlagen, auch nach erneuten Versuchen.' },
    },
  },
  {
    condition: 'drive_full',
    trigger: (s, id) => s.runEnded(id, run('quota_exceeded', { quota: { total: 1_000, used: 1_000 } })),
    link: 'alerts',
    words: {
      en: { subject: 'Your OneDrive is full: receipts are not being saved', sentence: 'Your OneDrive has no room left for the next receipt.' },
      de: { subject: 'Ihr OneDrive ist voll: Belege werden nicht gespeichert', sentence: 'In Ihrem OneDrive ist kein Platz mehr für den nächsten Beleg.' },
    },
  },
  {
    condition: 'drive_nearly_full',
    trigger: (s, id) => s.runEnded(id, run('completed', { quota: { total: 1_000, used: 950 } })),
    link: 'alerts',
    words: {
      en: { subject: 'Your OneDrive is over 90 % full', sentence: 'Your OneDrive is more than 90 % full.' },
      de: { subject: 'Ihr OneDrive ist zu über 90 % belegt', sentence: 'Ihr OneDrive ist zu mehr als 90 % belegt.' },
    },
  },
  {
    condition: 'reconnect_required',
    variant: 'qonto',
    trigger: (s, id) => s.runEnded(id, run('reconnect_required', { signInEnded: 'qonto' })),
    link: 'alerts',
    words: {
      en: { subject: 'Sign in to Qonto again to keep your receipts in sync', sentence: 'Qonto no longer accepts the sign-in of your receipts sync (it expired, or the access was withdrawn in Qonto).' },
      de: {
        subject: 'Bitte erneut bei Qonto anmelden, damit Ihre Belege synchronisiert werden',
        sentence: 'Qonto akzeptiert die Anmeldung Ihrer Belegsynchronisierung nicht mehr (sie ist abgelaufen, oder der Zugriff wurde in Qonto widerrufen).',
      },
    },
  },
  {
    condition: 'reconnect_required',
    variant: 'microsoft',
    trigger: (s, id) => s.runEnded(id, run('reconnect_required', { signInEnded: 'microsoft' })),
    link: 'alerts',
    words: {
      en: {
        subject: 'Sign in to Microsoft again to keep your receipts in sync',
        sentence: 'Microsoft no longer accepts the sign-in to your OneDrive (it expired, the consent was withdrawn or the password changed).',
      },
      de: {
        subject: 'Bitte erneut bei Microsoft anmelden, damit Ihre Belege synchronisiert werden',
        sentence: 'Microsoft akzeptiert die Anmeldung für Ihr OneDrive nicht mehr (sie ist abgelaufen, die Einwilligung wurde widerrufen oder das Passwort geändert).',
      },
    },
  },
  {
    condition: 'reconnect_required',
    variant: 'not known',
    trigger: (s, id) => s.runEnded(id, run('reconnect_required', { signInEnded: null })),
    link: 'alerts',
    words: {
      en: { subject: 'Sign in again to keep your receipts in sync', sentence: 'Access to Qonto or to Microsoft OneDrive has ended (the sign-in expired or was withdrawn).' },
      de: {
        subject: 'Bitte erneut anmelden, damit Ihre Belege synchronisiert werden',
        sentence: 'Der Zugriff auf Qonto oder Microsoft OneDrive ist beendet (die Anmeldung ist abgelaufen oder wurde widerrufen).',
      },
    },
  },
  {
    condition: 'no_success',
    trigger: async (s, id) => {
      await store.alerts.updateProfile(id, { lastSuccessAt: '2029-12-30T17:00:00.000Z' });
      return s.check(id, NOW);
    },
    link: 'alerts',
    words: {
      en: { subject: 'No receipts synced for more than 30 hours', sentence: 'No sync of your receipts has completed for more than 30 hours.' },
      de: { subject: 'Seit über 30 Stunden keine Belege synchronisiert', sentence: 'Seit mehr als 30 Stunden wurde keine Synchronisierung Ihrer Belege abgeschlossen.' },
    },
  },
  {
    condition: 'consent_withdrawn',
    trigger: (s, id) => s.consentWithdrawn(id, NOW),
    link: 'home',
    words: {
      en: { subject: 'Receipts sync stopped: consent withdrawn', sentence: 'Consent for the receipts sync was withdrawn and the stored sign-ins were deleted.' },
      de: { subject: 'Belegsynchronisierung beendet: Einwilligung widerrufen', sentence: 'Die Einwilligung für die Belegsynchronisierung wurde widerrufen, die gespeicherten Anmeldungen wurden gelöscht.' },
    },
  },
  {
    condition: 'back_to_normal',
    trigger: async (s, id) => {
      await s.runEnded(id, run('failed', { finishedAt: '2029-12-31T23:30:00.000Z' }));
      return s.runEnded(id, run('completed'));
    },
    mailIndex: 1,
    link: 'alerts',
    words: {
      en: { subject: 'Receipts sync back to normal', sentence: 'The sync of your receipts completed again.' },
      de: { subject: 'Belegsynchronisierung läuft wieder', sentence: 'Die Synchronisierung Ihrer Belege wurde wieder abgeschlossen.' },
    },
  },
  {
    condition: 'missing_receipts',
    trigger: async (s, id) => {
      await store.updateIntegration(id, { syncFrom: '2030-01-01', timeZone: 'Europe/Paris' });
      await store.upsertTransactions(id, [
        {
          transactionId: `${id}-tx`,
          bankAccountId: 'acc',
          accountName: 'Main account (0107)',
          emittedAt: '2030-11-03T10:00:00.000Z',
          localDate: '2030-11-03',
          period: '2030-11',
          amountCents: -5240,
          currency: 'EUR',
          counterparty: 'Amazon',
          status: 'completed',
          required: true,
          lost: false,
          attachments: 0,
        },
      ]);
      // The first completed run from 6 December (Paris) reminds of November.
      return s.runEnded(id, run('completed', { finishedAt: '2030-12-06T22:30:00.000Z' }));
    },
    link: 'missing',
    words: {
      en: { subject: '2030-11: 1 transaction still without a receipt', sentence: 'The month 2030-11 is over, and 1 of its transactions still has no receipt in Qonto.' },
      de: { subject: '2030-11: 1 Transaktion noch ohne Beleg', sentence: 'Der Monat 2030-11 ist vorbei, und 1 seiner Transaktionen hat in Qonto noch keinen Beleg.' },
    },
  },
];

/** The mails integration `id` gets when `c` happens to it in `language`. */
async function mailsOf(c: Case, language: MailLanguage, id: string): Promise<ReceivedMail[]> {
  await store.createIntegration({ id, status: 'idle' });
  await store.alerts.updateProfile(id, { contactEmail: 'owner@example.com', contactLanguage: language, lastSuccessAt: '2029-12-31T23:00:00.000Z' });
  const before = smtp.received.length;
  await c.trigger(service, id);
  return smtp.received.slice(before);
}

const linkOf = (c: Case, id: string) =>
  c.link === 'home' ? `${PUBLIC_URL}/` : `${PUBLIC_URL}/?integration=${id}#${c.link}-${id}`;

describe('every alert mail, in English and in German', () => {
  it('covers every condition', () => {
    expect(new Set(CASES.map((c) => c.condition))).toEqual(new Set(ALERT_CONDITIONS));
  });

  for (const c of CASES) {
    it(`${c.condition}${c.variant ? ` (${c.variant})` : ''}: the subject, what happened and the one link under PUBLIC_URL, in each language`, async () => {
      const sent: Partial<Record<MailLanguage, ReceivedMail>> = {};
      for (const language of ['en', 'de'] as const) {
        const id = `${c.condition}-${c.variant ?? 'x'}-${language}`.replace(/\W+/g, '-');
        const mails = await mailsOf(c, language, id);
        expect(mails).toHaveLength((c.mailIndex ?? 0) + 1);
        const mail = mails[c.mailIndex ?? 0]!;
        const expected = c.words[language];
        expect(mail.to).toEqual(['owner@example.com']);
        expect(mail.subject).toBe(expected.subject);
        expect(mail.text.startsWith(`${expected.sentence}\n`)).toBe(true);
        // One link, absolute, under PUBLIC_URL (path included), on a line of its own.
        expect(mail.text.match(/https?:\/\/\S+/g)).toEqual([linkOf(c, id)]);
        expect(mail.text).toContain(`\n${linkOf(c, id)}\n`);
        sent[language] = mail;
      }
      // Nothing of the English mail in the German one.
      expect(sent.de!.text).not.toContain(c.words.en.sentence);
      expect(sent.de!.subject).not.toBe(sent.en!.subject);
      expect(sent.de!.text).toContain('Dies ist eine automatische Nachricht');
      expect(sent.en!.text).toContain('This is an automatic message');
    });
  }
});

describe('in API-key mode', () => {
  it('a Qonto that refuses the API key mails the operator (ALERT_TO) to set a new key and restart, in each language', async () => {
    const apiKey = alertService({ store, mailer, publicUrl: PUBLIC_URL, alertTo: 'ops@example.com', apiKeyMode: true });
    const expected = {
      en: {
        subject: 'Qonto refused the API key: receipts are not being synced',
        sentence: 'Qonto no longer accepts the API key of your receipts sync (it was regenerated or revoked in Qonto).',
        action: 'set its login and secret key as QONTO_API_LOGIN and QONTO_API_SECRET and restart the service',
      },
      de: {
        subject: 'Qonto lehnt den API-Schlüssel ab: Belege werden nicht synchronisiert',
        sentence: 'Qonto akzeptiert den API-Schlüssel Ihrer Belegsynchronisierung nicht mehr (er wurde in Qonto neu erzeugt oder widerrufen).',
        action: 'als QONTO_API_LOGIN und QONTO_API_SECRET ein und starten Sie den Dienst neu',
      },
    };
    for (const language of ['en', 'de'] as const) {
      const id = `api-key-qonto-${language}`;
      await store.createIntegration({ id, status: 'idle' });
      await store.alerts.updateProfile(id, { contactLanguage: language, lastSuccessAt: '2029-12-31T23:00:00.000Z' });
      const before = smtp.received.length;
      await apiKey.runEnded(id, run('reconnect_required', { signInEnded: 'qonto' }));
      const mails = smtp.received.slice(before);
      expect(mails).toHaveLength(1);
      const mail = mails[0]!;
      expect(mail.to).toEqual(['ops@example.com']);
      expect(mail.subject).toBe(expected[language].subject);
      expect(mail.text.startsWith(`${expected[language].sentence}\n`)).toBe(true);
      expect(mail.text).toContain(expected[language].action);
      expect(mail.text).toContain(`\n${PUBLIC_URL}/?integration=${id}#alerts-${id}\n`);
    }
  });
});
