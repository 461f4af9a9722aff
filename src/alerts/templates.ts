import type { SignInProvider } from '../errors.js';
import type { AlertCondition } from './conditions.js';

export type MailLanguage = 'en' | 'de';

export interface MailInput {
  condition: AlertCondition;
  /** A reminder repeats the alert of a condition that still lasts. */
  reminder: boolean;
  language: MailLanguage;
  /** The one place to fix it: an absolute URL under PUBLIC_URL. */
  link: string;
  /** With `reconnect_required`: whose sign-in ended, when the run that found it knew (null: not known). */
  signIn?: SignInProvider | null;
  /** API-key mode: Qonto is reached with QONTO_API_LOGIN / QONTO_API_SECRET, nobody signs in to it. */
  apiKeyMode?: boolean;
}

export interface Mail {
  subject: string;
  text: string;
}

interface Wording {
  subject: string;
  /** What happened. */
  what: string;
  /** What it means for the receipts. */
  meaning: string;
  /** What to do, before the link. */
  action: string;
}

const EN: Record<AlertCondition, Wording> = {
  run_failed: {
    subject: 'Receipts sync failed',
    what: 'The sync of your Qonto receipts to OneDrive failed, even after trying again.',
    meaning: 'New receipts are not being saved to OneDrive until a run succeeds. It is tried again by itself.',
    action: 'See the error and retry on the dashboard:',
  },
  drive_full: {
    subject: 'Your OneDrive is full: receipts are not being saved',
    what: 'Your OneDrive has no room left for the next receipt.',
    meaning: 'Syncing stopped: receipts stay in Qonto and are not copied to OneDrive until there is room. Nothing already saved is lost.',
    action: 'Free some space in OneDrive (or get more storage), then sync again from the dashboard:',
  },
  drive_nearly_full: {
    subject: 'Your OneDrive is over 90 % full',
    what: 'Your OneDrive is more than 90 % full.',
    meaning: 'Receipts are still being saved, but the sync will stop once the drive is full.',
    action: 'Free some space in OneDrive before it fills up. The storage gauge is on the dashboard:',
  },
  reconnect_required: {
    subject: 'Sign in again to keep your receipts in sync',
    what: 'Access to Qonto or to Microsoft OneDrive has ended (the sign-in expired or was withdrawn).',
    meaning: 'Syncing stopped: new receipts are not copied to OneDrive until you sign in again.',
    action: 'Sign in again from the dashboard:',
  },
  no_success: {
    subject: 'No receipts synced for more than 30 hours',
    what: 'No sync of your receipts has completed for more than 30 hours.',
    meaning: 'Receipts added since then may not be in OneDrive yet.',
    action: 'Check the state of the sync on the dashboard:',
  },
  consent_withdrawn: {
    subject: 'Receipts sync stopped: consent withdrawn',
    what: 'Consent for the receipts sync was withdrawn and the stored sign-ins were deleted.',
    meaning: 'No more receipts are copied to OneDrive. The files already there stay where they are.',
    action: 'To sync again, connect anew:',
  },
  back_to_normal: {
    subject: 'Receipts sync back to normal',
    what: 'The sync of your receipts completed again.',
    meaning: 'Receipts that were waiting are now in OneDrive; new ones follow every day.',
    action: 'The dashboard shows the details:',
  },
  // Mailed with its period's counts and transactions (period-reminder.ts); this is its generic form.
  missing_receipts: {
    subject: 'Receipts still missing for a closed month',
    what: 'A month is over, and some of its transactions still have no receipt in Qonto.',
    meaning: 'Without them the month cannot be closed in the books.',
    action: 'The list is on the dashboard:',
  },
};

const DE: Record<AlertCondition, Wording> = {
  run_failed: {
    subject: 'Belegsynchronisierung fehlgeschlagen',
    what: 'Die Synchronisierung Ihrer Qonto-Belege mit OneDrive ist fehlgeschlagen, auch nach erneuten Versuchen.',
    meaning: 'Neue Belege werden erst wieder in OneDrive gespeichert, wenn ein Lauf gelingt. Es wird automatisch erneut versucht.',
    action: 'Fehler ansehen und erneut versuchen im Dashboard:',
  },
  drive_full: {
    subject: 'Ihr OneDrive ist voll: Belege werden nicht gespeichert',
    what: 'In Ihrem OneDrive ist kein Platz mehr für den nächsten Beleg.',
    meaning: 'Die Synchronisierung ist angehalten: Belege bleiben in Qonto und werden erst wieder nach OneDrive kopiert, wenn Platz ist. Bereits Gespeichertes bleibt erhalten.',
    action: 'Geben Sie Speicherplatz in OneDrive frei (oder erweitern Sie ihn) und synchronisieren Sie dann erneut im Dashboard:',
  },
  drive_nearly_full: {
    subject: 'Ihr OneDrive ist zu über 90 % belegt',
    what: 'Ihr OneDrive ist zu mehr als 90 % belegt.',
    meaning: 'Belege werden noch gespeichert, doch die Synchronisierung hält an, sobald der Speicher voll ist.',
    action: 'Geben Sie Speicherplatz frei, bevor er voll ist. Die Speicheranzeige finden Sie im Dashboard:',
  },
  reconnect_required: {
    subject: 'Bitte erneut anmelden, damit Ihre Belege synchronisiert werden',
    what: 'Der Zugriff auf Qonto oder Microsoft OneDrive ist beendet (die Anmeldung ist abgelaufen oder wurde widerrufen).',
    meaning: 'Die Synchronisierung ist angehalten: Neue Belege werden erst nach einer erneuten Anmeldung nach OneDrive kopiert.',
    action: 'Melden Sie sich im Dashboard erneut an:',
  },
  no_success: {
    subject: 'Seit über 30 Stunden keine Belege synchronisiert',
    what: 'Seit mehr als 30 Stunden wurde keine Synchronisierung Ihrer Belege abgeschlossen.',
    meaning: 'Seitdem hinzugekommene Belege sind womöglich noch nicht in OneDrive.',
    action: 'Prüfen Sie den Stand der Synchronisierung im Dashboard:',
  },
  consent_withdrawn: {
    subject: 'Belegsynchronisierung beendet: Einwilligung widerrufen',
    what: 'Die Einwilligung für die Belegsynchronisierung wurde widerrufen, die gespeicherten Anmeldungen wurden gelöscht.',
    meaning: 'Es werden keine Belege mehr nach OneDrive kopiert. Die Dateien, die schon dort sind, bleiben erhalten.',
    action: 'Um wieder zu synchronisieren, verbinden Sie sich neu:',
  },
  back_to_normal: {
    subject: 'Belegsynchronisierung läuft wieder',
    what: 'Die Synchronisierung Ihrer Belege wurde wieder abgeschlossen.',
    meaning: 'Wartende Belege sind jetzt in OneDrive; neue folgen jeden Tag.',
    action: 'Einzelheiten zeigt das Dashboard:',
  },
  missing_receipts: {
    subject: 'Belege fehlen noch für einen abgeschlossenen Monat',
    what: 'Ein Monat ist vorbei, und einige seiner Transaktionen haben in Qonto noch keinen Beleg.',
    meaning: 'Ohne sie lässt sich der Monat in der Buchhaltung nicht abschließen.',
    action: 'Die Liste finden Sie im Dashboard:',
  },
};

/** `reconnect_required` when it is known whose sign-in ended: the mail's subject and first sentence name
 * that provider only. One "sign in again" on the dashboard renews either (it restores just the sign-in
 * that ended); it always ends at Microsoft, whose account finds the integration again, so the Qonto
 * mail's action names the same Microsoft account too. */
const SIGN_IN_ENDED: Record<MailLanguage, Record<SignInProvider, Omit<Wording, 'meaning'>>> = {
  en: {
    qonto: {
      subject: 'Sign in to Qonto again to keep your receipts in sync',
      what: 'Qonto no longer accepts the sign-in of your receipts sync (it expired, or the access was withdrawn in Qonto).',
      action: 'Syncing resumes where it stopped once you sign in again from the dashboard, with Qonto and then the same Microsoft account:',
    },
    microsoft: {
      subject: 'Sign in to Microsoft again to keep your receipts in sync',
      what: 'Microsoft no longer accepts the sign-in to your OneDrive (it expired, the consent was withdrawn or the password changed).',
      action: 'Syncing resumes where it stopped once you sign in again with the same Microsoft account from the dashboard:',
    },
  },
  de: {
    qonto: {
      subject: 'Bitte erneut bei Qonto anmelden, damit Ihre Belege synchronisiert werden',
      what: 'Qonto akzeptiert die Anmeldung Ihrer Belegsynchronisierung nicht mehr (sie ist abgelaufen, oder der Zugriff wurde in Qonto widerrufen).',
      action: 'Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde, sobald Sie sich im Dashboard erneut anmelden, bei Qonto und dann mit demselben Microsoft-Konto:',
    },
    microsoft: {
      subject: 'Bitte erneut bei Microsoft anmelden, damit Ihre Belege synchronisiert werden',
      what: 'Microsoft akzeptiert die Anmeldung für Ihr OneDrive nicht mehr (sie ist abgelaufen, die Einwilligung wurde widerrufen oder das Passwort geändert).',
      action: 'Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde, sobald Sie sich im Dashboard erneut mit demselben Microsoft-Konto anmelden:',
    },
  },
};

/** `reconnect_required` in API-key mode when Qonto refused the key (a 401): there is no Qonto sign-in
 * to renew, the operator sets a new key and restarts. The integration's workflow then still waits for
 * a sign-in: the Microsoft one, which finds the integration again and resumes it. */
const API_KEY_REFUSED: Record<MailLanguage, Wording> = {
  en: {
    subject: 'Qonto refused the API key: receipts are not being synced',
    what: 'Qonto no longer accepts the API key of your receipts sync (it was regenerated or revoked in Qonto).',
    meaning: 'Syncing stopped: new receipts are not copied to OneDrive until the service runs with a valid API key.',
    action:
      'Generate a new API key in Qonto (Settings → Integrations and Partnerships → API key), set its login and secret key as QONTO_API_LOGIN and QONTO_API_SECRET and restart the service. Then sign in again from the dashboard with the same Microsoft account, and syncing resumes where it stopped:',
  },
  de: {
    subject: 'Qonto lehnt den API-Schlüssel ab: Belege werden nicht synchronisiert',
    what: 'Qonto akzeptiert den API-Schlüssel Ihrer Belegsynchronisierung nicht mehr (er wurde in Qonto neu erzeugt oder widerrufen).',
    meaning: 'Die Synchronisierung ist angehalten: Neue Belege werden erst wieder nach OneDrive kopiert, wenn der Dienst mit einem gültigen API-Schlüssel läuft.',
    action:
      'Erzeugen Sie in Qonto einen neuen API-Schlüssel, tragen Sie dessen Login und geheimen Schlüssel als QONTO_API_LOGIN und QONTO_API_SECRET ein und starten Sie den Dienst neu. Melden Sie sich danach im Dashboard erneut mit demselben Microsoft-Konto an; die Synchronisierung wird dann dort fortgesetzt, wo sie unterbrochen wurde:',
  },
};

const WORDING: Record<MailLanguage, Record<AlertCondition, Wording>> = { en: EN, de: DE };
const REMINDER: Record<MailLanguage, string> = { en: 'Reminder', de: 'Erinnerung' };
export const SIGNATURE: Record<MailLanguage, string> = {
  en: 'This is an automatic message of your Qonto → OneDrive receipts sync.',
  de: 'Dies ist eine automatische Nachricht Ihrer Qonto → OneDrive-Belegsynchronisierung.',
};

/** The mail of one alert, in plain text. */
export function renderMail({ condition, reminder, language, link, signIn, apiKeyMode = false }: MailInput): Mail {
  const w = wording(condition, language, signIn ?? null, apiKeyMode);
  const subject = reminder ? `${REMINDER[language]}: ${w.subject}` : w.subject;
  const text = [w.what, '', w.meaning, '', w.action, link, '', '-- ', SIGNATURE[language], ''].join('\n');
  return { subject, text };
}

function wording(condition: AlertCondition, language: MailLanguage, signIn: SignInProvider | null, apiKeyMode: boolean): Wording {
  const generic = WORDING[language][condition];
  if (condition !== 'reconnect_required' || signIn === null) return generic;
  if (signIn === 'qonto' && apiKeyMode) return API_KEY_REFUSED[language];
  return { ...generic, ...SIGN_IN_ENDED[language][signIn] };
}

/** Where each condition is fixed: the integration's dashboard, at its alerts (missing receipts: at
 * their list). */
export function alertLink(publicUrl: string, integrationId: string, condition: AlertCondition): string {
  const base = publicUrl.replace(/\/+$/, '');
  // Withdrawn consent leaves nothing to fix on that dashboard: the way on is a new connection.
  if (condition === 'consent_withdrawn') return `${base}/`;
  const section = condition === 'missing_receipts' ? 'missing' : 'alerts';
  return `${base}/?${new URLSearchParams({ integration: integrationId })}#${section}-${integrationId}`;
}

/** The mail language of a stored language or locale (`de`, `de-DE`, `de_AT`); English otherwise. */
export function mailLanguage(stored: string | null | undefined): MailLanguage {
  return (stored ?? '').toLowerCase().startsWith('de') ? 'de' : 'en';
}
