import { describe, expect, it } from 'vitest';
import { ALERT_CONDITIONS } from '../../src/alerts/conditions.js';
import { alertLink, mailLanguage, renderMail } from '../../src/alerts/templates.js';

const LINK = 'https://receipts.example.com/?integration=i1#alerts-i1';

describe('alert mails', () => {
  it('every condition has a subject and a body in English and German, with the link', () => {
    for (const condition of ALERT_CONDITIONS) {
      for (const language of ['en', 'de'] as const) {
        const mail = renderMail({ condition, reminder: false, language, link: LINK });
        expect(mail.subject.length).toBeGreaterThan(10);
        expect(mail.text).toContain(`\n${LINK}\n`);
      }
      expect(renderMail({ condition, reminder: false, language: 'de', link: LINK }).text).not.toBe(
        renderMail({ condition, reminder: false, language: 'en', link: LINK }).text,
      );
    }
  });

  it('says what happened, what it means for the receipts and what to do', () => {
    const en = renderMail({ condition: 'drive_full', reminder: false, language: 'en', link: LINK });
    expect(en.subject).toBe('Your OneDrive is full: receipts are not being saved');
    expect(en.text).toMatch(/^Your OneDrive has no room left for the next receipt\.\n\nSyncing stopped: receipts stay in Qonto/);
    expect(en.text).toContain('Free some space in OneDrive');
    const de = renderMail({ condition: 'reconnect_required', reminder: false, language: 'de', link: LINK });
    expect(de.subject).toBe('Bitte erneut anmelden, damit Ihre Belege synchronisiert werden');
    expect(de.text).toContain('Melden Sie sich im Dashboard erneut an:\n' + LINK);
  });

  it('names the provider whose sign-in ended, and not the other; both when it is not known', () => {
    const words = (signIn: 'qonto' | 'microsoft' | null, language: 'en' | 'de') => {
      const mail = renderMail({ condition: 'reconnect_required', reminder: false, language, link: LINK, signIn });
      return `${mail.subject}\n${mail.text.split('\n-- \n')[0]}`;
    };
    /** The subject and what happened: the Qonto mail's action names Microsoft too (signing in again ends there). */
    const headline = (signIn: 'qonto', language: 'en' | 'de') => {
      const mail = renderMail({ condition: 'reconnect_required', reminder: false, language, link: LINK, signIn });
      return `${mail.subject}\n${mail.text.split('\n')[0]}`;
    };
    for (const language of ['en', 'de'] as const) {
      expect(headline('qonto', language)).toContain('Qonto');
      expect(headline('qonto', language)).not.toContain('Microsoft');
      expect(words('microsoft', language)).toContain('Microsoft');
      expect(words('microsoft', language)).not.toContain('Qonto');
      expect(words(null, language)).toMatch(/Qonto.*Microsoft/);
    }
    expect(words('qonto', 'de')).toMatch(/^Bitte erneut bei Qonto anmelden/);
    expect(words('microsoft', 'en')).toMatch(/^Sign in to Microsoft again/);
  });

  it('tells that signing in again after Qonto\'s sign-in ended runs through Qonto, then the same Microsoft account', () => {
    // The integration is found again by its Microsoft account: another account would start a new one.
    const action = (language: 'en' | 'de') =>
      renderMail({ condition: 'reconnect_required', reminder: false, language, link: LINK, signIn: 'qonto' }).text.split('\n\n')[2];
    expect(action('en')).toBe(`Syncing resumes where it stopped once you sign in again from the dashboard, with Qonto and then the same Microsoft account:\n${LINK}`);
    expect(action('de')).toBe(
      `Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde, sobald Sie sich im Dashboard erneut anmelden, bei Qonto und dann mit demselben Microsoft-Konto:\n${LINK}`,
    );
  });

  it('in API-key mode, a Qonto that refuses the key asks for a new API key and a restart, not a Qonto sign-in', () => {
    const mail = (language: 'en' | 'de') =>
      renderMail({ condition: 'reconnect_required', reminder: false, language, link: LINK, signIn: 'qonto', apiKeyMode: true });
    const en = mail('en');
    expect(en.subject).toBe('Qonto refused the API key: receipts are not being synced');
    expect(en.text).toMatch(/^Qonto no longer accepts the API key of your receipts sync/);
    expect(en.text).toContain('set its login and secret key as QONTO_API_LOGIN and QONTO_API_SECRET and restart the service');
    expect(en.text).toContain('sign in again from the dashboard with the same Microsoft account');
    const de = mail('de');
    expect(de.subject).toBe('Qonto lehnt den API-Schlüssel ab: Belege werden nicht synchronisiert');
    expect(de.text).toMatch(/^Qonto akzeptiert den API-Schlüssel Ihrer Belegsynchronisierung nicht mehr/);
    expect(de.text).toContain('als QONTO_API_LOGIN und QONTO_API_SECRET ein und starten Sie den Dienst neu');
    for (const m of [en, de]) {
      expect(m.text).toContain(`:\n${LINK}\n`);
      // No Qonto sign-in exists in API-key mode.
      expect(`${m.subject}\n${m.text}`).not.toMatch(/sign in to Qonto|with Qonto and then|bei Qonto anmelden|bei Qonto und dann/i);
    }
    // Microsoft's sign-in is the same in both modes.
    const microsoft = (apiKeyMode: boolean) =>
      renderMail({ condition: 'reconnect_required', reminder: false, language: 'en', link: LINK, signIn: 'microsoft', apiKeyMode });
    expect(microsoft(true)).toEqual(microsoft(false));
  });

  it('says in German that the sync is resumed where it was interrupted', () => {
    for (const signIn of ['qonto', 'microsoft'] as const) {
      const { text } = renderMail({ condition: 'reconnect_required', reminder: false, language: 'de', link: LINK, signIn });
      expect(text).toContain('Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde, sobald Sie sich im Dashboard erneut');
      expect(text).not.toContain('setzt dort fort');
    }
  });

  it('marks a reminder in the subject', () => {
    expect(renderMail({ condition: 'run_failed', reminder: true, language: 'en', link: LINK }).subject).toBe('Reminder: Receipts sync failed');
    expect(renderMail({ condition: 'run_failed', reminder: true, language: 'de', link: LINK }).subject).toBe('Erinnerung: Belegsynchronisierung fehlgeschlagen');
  });

  it('links to the integration on the dashboard under PUBLIC_URL, or to a new connection once consent is withdrawn', () => {
    expect(alertLink('https://receipts.example.com/', 'i1', 'drive_full')).toBe(LINK);
    expect(alertLink('https://receipts.example.com', 'i1', 'consent_withdrawn')).toBe('https://receipts.example.com/');
    expect(alertLink('https://receipts.example.com', 'i1', 'missing_receipts')).toBe('https://receipts.example.com/?integration=i1#missing-i1');
  });

  it('reads the language of a page or a Qonto locale', () => {
    expect(mailLanguage('de')).toBe('de');
    expect(mailLanguage('de_AT')).toBe('de');
    expect(mailLanguage('fr')).toBe('en');
    expect(mailLanguage(null)).toBe('en');
  });
});
