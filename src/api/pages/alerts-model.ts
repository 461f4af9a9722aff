import type { AlertCondition } from '../../alerts/conditions.js';
import type { AlertItem } from '../alerts-status.js';
import type { Locale } from './i18n.js';

/** The dashboard's alerts in words: a banner for what is under way, with what to do, and the latest
 * occurrences. Its own messages (EN and DE) live here, beside the conditions they name. */
export interface AlertsModel {
  heading: string;
  banner: { condition: AlertCondition; text: string; action: string }[];
  historyHeading: string;
  history: { condition: AlertCondition; label: string; when: string }[];
  emptyHistory: string;
}

interface AlertMessages {
  heading: string;
  historyHeading: string;
  emptyHistory: string;
  labels: Record<AlertCondition, string>;
  actions: Partial<Record<AlertCondition, string>>;
  since: (when: string) => string;
  between: (from: string, to: string) => string;
}

const en: AlertMessages = {
  heading: 'Alerts',
  historyHeading: 'Recent alerts',
  emptyHistory: 'No alerts so far.',
  labels: {
    run_failed: 'The sync failed',
    drive_full: 'Your OneDrive is full',
    drive_nearly_full: 'Your OneDrive is over 90 % full',
    reconnect_required: 'A sign-in must be renewed',
    no_success: 'No successful sync for more than 30 hours',
    consent_withdrawn: 'Consent withdrawn',
    back_to_normal: 'Back to normal',
    missing_receipts: 'Reminder: a closed month still had transactions without a receipt',
  },
  actions: {
    run_failed: 'It is tried again by itself; see the last error below, or use "Sync now".',
    drive_full: 'Free some space in OneDrive, then use "Sync now".',
    drive_nearly_full: 'Free some space in OneDrive before it fills up.',
    reconnect_required: 'Sign in again (under "Needs you").',
    no_success: 'See the last run and error below, or use "Sync now".',
  },
  since: (when) => `since ${when}`,
  between: (from, to) => `${from} – ${to}`,
};

const de: AlertMessages = {
  heading: 'Warnungen',
  historyHeading: 'Letzte Warnungen',
  emptyHistory: 'Bisher keine Warnungen.',
  labels: {
    run_failed: 'Die Synchronisierung ist fehlgeschlagen',
    drive_full: 'Ihr OneDrive ist voll',
    drive_nearly_full: 'Ihr OneDrive ist zu über 90 % belegt',
    reconnect_required: 'Eine Anmeldung muss erneuert werden',
    no_success: 'Seit über 30 Stunden keine erfolgreiche Synchronisierung',
    consent_withdrawn: 'Einwilligung widerrufen',
    back_to_normal: 'Läuft wieder',
    missing_receipts: 'Erinnerung: Ein abgeschlossener Monat hatte noch Transaktionen ohne Beleg',
  },
  actions: {
    run_failed: 'Es wird automatisch erneut versucht; siehe den letzten Fehler unten, oder „Jetzt synchronisieren“.',
    drive_full: 'Geben Sie Speicherplatz in OneDrive frei, dann „Jetzt synchronisieren“.',
    drive_nearly_full: 'Geben Sie Speicherplatz in OneDrive frei, bevor er voll ist.',
    reconnect_required: 'Melden Sie sich erneut an (unter „Ihre Aktion ist nötig“).',
    no_success: 'Siehe letzten Lauf und Fehler unten, oder „Jetzt synchronisieren“.',
  },
  since: (when) => `seit ${when}`,
  between: (from, to) => `${from} – ${to}`,
};

export const ALERT_MESSAGES: Record<Locale, AlertMessages> = { en, de };

/** `at` formats an instant as the rest of the dashboard does (formatInstant, in the integration's zone). */
export function alertsModel(alerts: { active: AlertItem[]; history: AlertItem[] }, locale: Locale, at: (iso: string) => string): AlertsModel {
  const m = ALERT_MESSAGES[locale];
  // A warning superseded by a failure of the same cause (90 % under a full drive) says nothing more.
  const full = alerts.active.some((a) => a.condition === 'drive_full');
  return {
    heading: m.heading,
    banner: alerts.active
      .filter((a) => !(full && a.condition === 'drive_nearly_full'))
      .map((a) => ({ condition: a.condition, text: `${m.labels[a.condition]} (${m.since(at(a.startedAt))})`, action: m.actions[a.condition] ?? '' })),
    historyHeading: m.historyHeading,
    history: alerts.history.map((a) => ({
      condition: a.condition,
      label: m.labels[a.condition],
      when: a.resolvedAt === null ? m.since(at(a.startedAt)) : a.resolvedAt === a.startedAt ? at(a.startedAt) : m.between(at(a.startedAt), at(a.resolvedAt)),
    })),
    emptyHistory: m.emptyHistory,
  };
}
