import type { Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import type { SignInProvider } from '../../errors.js';
import type { IntegrationStatus } from '../../store/types.js';

/** Whose sign-in ended, as the dashboard words it: in API-key mode a Qonto refusal is of the
 * service's API key, which only whoever runs the service can replace. */
export type EndedSignIn = SignInProvider | 'qontoApiKey';

export const LOCALES = ['en', 'de'] as const;
export type Locale = (typeof LOCALES)[number];

const en = {
  title: 'Qonto receipts → OneDrive',
  tagline: 'Every receipt of your Qonto accounts, kept in your own OneDrive.',
  sandbox: 'Sandbox',
  sandboxHint: 'Simulated Qonto and Microsoft: nothing here touches a real account.',
  browseDrive: 'Browse the simulated OneDrive',
  language: 'Language',
  skip: 'Skip to content',
  signOut: 'Sign out',
  signedInAs: (name: string, role: string) => `Signed in as ${name} (${role})`,

  signInTitle: 'Sign in',
  signInQontoText: 'Owners, admins and accountants of a Qonto organization can connect its receipts to OneDrive.',
  signInQonto: 'Sign in with Qonto',
  adminTokenLabel: 'Admin token',
  adminTokenHelp: 'The ADMIN_TOKEN this service was started with.',
  adminTokenHelpSandbox: 'In the sandbox the token is “sandbox”.',
  signInButton: 'Sign in',
  adminTokenWrong: 'This admin token is not valid.',

  stepsLabel: 'Setup steps',
  steps: ['Connect', 'Sign in with Microsoft', 'Choose the start date', 'Finish'],
  connectTitle: 'Connect your OneDrive',
  connectText:
    'Receipts are copied into a folder of your OneDrive, one folder per business account and month. The service only gets access to its own folder (Apps), never to your other files.',
  personalOnly:
    'Only personal Microsoft accounts work (outlook.com, hotmail.com, live.com): Qonto’s OneDrive integration is for the personal OneDrive. Work or school accounts (OneDrive for Business) are refused.',
  connectButton: 'Connect',
  connecting: 'Opening Microsoft sign-in…',
  signedInMicrosoft: (account: string) => `Signed in with Microsoft as ${account}. The sync is allowed.`,
  resumed: (account: string) => `Welcome back: ${account} is connected again and syncing resumes.`,
  syncFromLabel: 'Sync receipts from',
  syncFromHelp: 'Receipts of transactions on or after this date are exported.',
  timeZoneLabel: 'Time zone',
  timeZoneHelp: 'Decides the month a receipt belongs to and when the daily run happens.',
  timeZoneOrganization: 'The organization’s time zone',
  finishButton: 'Finish',
  finishing: 'Starting…',
  cancelSetup: 'Start over',

  refusedTitle: 'Sign-in refused',
  workAccountTitle: 'This is a work or school account',
  workAccountText:
    'Qonto receipts can only be kept in a personal OneDrive. Sign in again with a personal Microsoft account (outlook.com, hotmail.com, live.com). Nothing of the refused account was stored.',
  declinedText: 'Access was not granted, so nothing was connected. You can try again at any time.',
  tryAgain: 'Try again',
  backHome: 'Back to the start page',
  expiredTitle: 'This link has expired',
  notAllowedTitle: 'Not allowed',
  errorTitle: 'Something went wrong',
  notFoundTitle: 'Page not found',

  dashboardTitle: 'Your receipts in OneDrive',
  oneDriveAccount: 'OneDrive account',
  state: 'State',
  states: {
    connecting: 'Waiting for the setup to finish.',
    backfilling: 'Exporting your existing receipts.',
    idle: 'Up to date. Your receipts are safe in OneDrive.',
    syncing: 'Syncing new receipts now.',
    quota_exceeded: 'Your OneDrive is full: syncing stopped.',
    reconnect_required: 'Access has ended: sign in again to resume.',
    revoked: 'Consent withdrawn: nothing is synced any more. Files already exported stay in your OneDrive.',
    failed: 'The sync stopped after an error.',
  } satisfies Record<IntegrationStatus, string>,
  /** The state line when it is known whose sign-in ended. */
  signInEnded: {
    qonto: 'Qonto access has ended: sign in again to resume.',
    microsoft: 'Microsoft access has ended: sign in again to resume.',
    qontoApiKey: 'Qonto refused the API key: syncing stopped until it is replaced.',
  } satisfies Record<EndedSignIn, string>,
  lastRun: 'Last run',
  nextRun: 'Next run',
  never: 'not yet',
  notPlanned: 'not planned',
  runSummary: (exported: number, failed: number) => `${exported} exported${failed ? `, ${failed} to retry` : ''}`,
  outcomes: {
    completed: 'completed',
    quota_exceeded: 'stopped: OneDrive full',
    reconnect_required: 'stopped: sign-in needed',
    failed: 'failed',
    revoked: 'stopped: consent withdrawn',
  } as Record<string, string>,
  exported: 'Exported',
  toRetry: 'To retry',
  waiting: 'Waiting',
  progressLabel: 'Export of existing receipts',
  progressText: (done: number, total: number) => `${done} of ${total} receipts`,
  storage: 'OneDrive storage',
  storageText: (used: string, total: string, free: string) => `${used} of ${total} used, ${free} free`,
  storageUnknown: 'Not measured yet.',
  storageNearing: 'Your OneDrive is nearly full.',
  storageCritical: 'Your OneDrive is almost full: receipts will soon stop arriving.',
  storageFull: 'Action needed: free some space in OneDrive, then click Sync now.',
  needsYou: 'Needs you',
  reconnectTexts: {
    qonto: 'Qonto no longer accepts this integration’s sign-in (access withdrawn in Qonto, or expired). Sign in again, with Qonto and then the same Microsoft account: syncing resumes where it stopped, and nothing is exported twice.',
    microsoft: 'Microsoft no longer accepts this sign-in (consent withdrawn or password changed). Sign in again with the same account: syncing resumes where it stopped.',
    unknown: 'This integration’s sign-in has ended. Sign in again with the same Microsoft account: syncing resumes where it stopped.',
    qontoApiKey:
      'Qonto no longer accepts this service’s API key (it was regenerated or revoked in Qonto). Whoever runs the service sets a new one (QONTO_API_LOGIN and QONTO_API_SECRET) and restarts it; then sign in again with the same Microsoft account: syncing resumes where it stopped.',
  } satisfies Record<EndedSignIn | 'unknown', string>,
  reconnectButton: 'Sign in again',
  freeSpaceText: 'Free some space in your OneDrive (or get more storage), then click Sync now.',
  failedText: 'Click Sync now to try again. If it keeps failing, the Temporal UI shows what happened.',
  retryText: (when: string) => `It tries again by itself on ${when}, or at once when you click Sync now. If it keeps failing, the Temporal UI shows what happened.`,
  lastError: 'Last problem',
  byFolder: 'Receipts by account and period',
  folder: 'Account',
  period: 'Period',
  noReceiptsYet: 'No receipts found yet for this period.',
  actions: 'Actions',
  syncNow: 'Sync now',
  syncRequested: 'Sync requested.',
  reconfigure: 'Reconfigure',
  reconfigureText: 'Everything from the start date is exported again, including folders you deleted.',
  save: 'Save and re-import',
  reconfigured: 'Saved: receipts are being re-imported.',
  probative: {
    label: 'Also save Qonto’s probative copies',
    help: 'Qonto keeps an electronically signed copy (PDF, PAdES) of many receipts, with the value of the original as proof. Each one is saved beside its receipt as “…-probative.pdf”, once Qonto has made it.',
    on: 'Probative copies: saved beside the receipts.',
    off: 'Probative copies: not saved.',
  },
  withdraw: 'Withdraw consent',
  withdrawConfirmTitle: 'Withdraw consent?',
  withdrawConfirmText:
    'Syncing stops and the Microsoft and Qonto access tokens are deleted. Files already in your OneDrive stay there.',
  withdrawConfirm: 'Withdraw consent',
  cancel: 'Cancel',
  withdrawn: 'Consent withdrawn.',
  temporalLink: 'Inspect the workflow in the Temporal UI',
  exportLog: 'Export log (every receipt file with its path and SHA-256):',
  exportLogCsv: 'download as CSV',
  exportLogJson: 'JSON',
  connectAnother: 'Connect a OneDrive',
  actionFailed: 'That did not work:',
  updated: 'Updated',
  driveTitle: 'Simulated OneDrive',
  driveEmpty: 'Nothing here yet.',
  files: 'files',
};

export type Messages = typeof en;

const de: Messages = {
  title: 'Qonto-Belege → OneDrive',
  tagline: 'Jeder Beleg Ihrer Qonto-Konten, sicher in Ihrem eigenen OneDrive.',
  sandbox: 'Sandbox',
  sandboxHint: 'Simuliertes Qonto und Microsoft: hier wird kein echtes Konto berührt.',
  browseDrive: 'Simuliertes OneDrive ansehen',
  language: 'Sprache',
  skip: 'Zum Inhalt springen',
  signOut: 'Abmelden',
  signedInAs: (name, role) => `Angemeldet als ${name} (${role})`,

  signInTitle: 'Anmelden',
  signInQontoText: 'Inhaber, Admins und Buchhalter einer Qonto-Organisation können deren Belege mit OneDrive verbinden.',
  signInQonto: 'Mit Qonto anmelden',
  adminTokenLabel: 'Admin-Token',
  adminTokenHelp: 'Das ADMIN_TOKEN, mit dem dieser Dienst gestartet wurde.',
  adminTokenHelpSandbox: 'In der Sandbox lautet das Token „sandbox“.',
  signInButton: 'Anmelden',
  adminTokenWrong: 'Dieses Admin-Token ist ungültig.',

  stepsLabel: 'Einrichtungsschritte',
  steps: ['Verbinden', 'Bei Microsoft anmelden', 'Startdatum wählen', 'Fertigstellen'],
  connectTitle: 'OneDrive verbinden',
  connectText:
    'Belege werden in einen Ordner Ihres OneDrive kopiert, ein Ordner pro Geschäftskonto und Monat. Der Dienst erhält nur Zugriff auf seinen eigenen Ordner (Apps), nie auf Ihre anderen Dateien.',
  personalOnly:
    'Nur private Microsoft-Konten funktionieren (outlook.com, hotmail.com, live.com): Die OneDrive-Integration von Qonto ist für das private OneDrive. Geschäfts- oder Schulkonten (OneDrive for Business) werden abgelehnt.',
  connectButton: 'Verbinden',
  connecting: 'Microsoft-Anmeldung wird geöffnet…',
  signedInMicrosoft: (account) => `Bei Microsoft angemeldet als ${account}. Die Synchronisierung ist erlaubt.`,
  resumed: (account) => `Willkommen zurück: ${account} ist wieder verbunden, die Synchronisierung läuft weiter.`,
  syncFromLabel: 'Belege synchronisieren ab',
  syncFromHelp: 'Belege von Transaktionen ab diesem Datum werden exportiert.',
  timeZoneLabel: 'Zeitzone',
  timeZoneHelp: 'Bestimmt den Monat eines Belegs und die Uhrzeit des täglichen Laufs.',
  timeZoneOrganization: 'Zeitzone der Organisation',
  finishButton: 'Fertigstellen',
  finishing: 'Wird gestartet…',
  cancelSetup: 'Neu beginnen',

  refusedTitle: 'Anmeldung abgelehnt',
  workAccountTitle: 'Dies ist ein Geschäfts- oder Schulkonto',
  workAccountText:
    'Qonto-Belege können nur in einem privaten OneDrive abgelegt werden. Melden Sie sich erneut mit einem privaten Microsoft-Konto an (outlook.com, hotmail.com, live.com). Vom abgelehnten Konto wurde nichts gespeichert.',
  declinedText: 'Der Zugriff wurde nicht erteilt, daher wurde nichts verbunden. Sie können es jederzeit erneut versuchen.',
  tryAgain: 'Erneut versuchen',
  backHome: 'Zurück zur Startseite',
  expiredTitle: 'Dieser Link ist abgelaufen',
  notAllowedTitle: 'Nicht erlaubt',
  errorTitle: 'Etwas ist schiefgelaufen',
  notFoundTitle: 'Seite nicht gefunden',

  dashboardTitle: 'Ihre Belege in OneDrive',
  oneDriveAccount: 'OneDrive-Konto',
  state: 'Zustand',
  states: {
    connecting: 'Wartet auf den Abschluss der Einrichtung.',
    backfilling: 'Ihre vorhandenen Belege werden exportiert.',
    idle: 'Aktuell. Ihre Belege sind sicher in OneDrive.',
    syncing: 'Neue Belege werden gerade synchronisiert.',
    quota_exceeded: 'Ihr OneDrive ist voll: die Synchronisierung wurde angehalten.',
    reconnect_required: 'Der Zugriff ist abgelaufen: melden Sie sich erneut an.',
    revoked: 'Einwilligung widerrufen: es wird nichts mehr synchronisiert. Bereits exportierte Dateien bleiben in Ihrem OneDrive.',
    failed: 'Die Synchronisierung wurde nach einem Fehler angehalten.',
  },
  signInEnded: {
    qonto: 'Der Qonto-Zugriff ist abgelaufen: melden Sie sich erneut an.',
    microsoft: 'Der Microsoft-Zugriff ist abgelaufen: melden Sie sich erneut an.',
    qontoApiKey: 'Qonto lehnt den API-Schlüssel ab: Die Synchronisierung ruht, bis er ersetzt ist.',
  },
  lastRun: 'Letzter Lauf',
  nextRun: 'Nächster Lauf',
  never: 'noch keiner',
  notPlanned: 'nicht geplant',
  runSummary: (exported, failed) => `${exported} exportiert${failed ? `, ${failed} erneut zu versuchen` : ''}`,
  outcomes: {
    completed: 'abgeschlossen',
    quota_exceeded: 'angehalten: OneDrive voll',
    reconnect_required: 'angehalten: Anmeldung nötig',
    failed: 'fehlgeschlagen',
    revoked: 'angehalten: Einwilligung widerrufen',
  },
  exported: 'Exportiert',
  toRetry: 'Erneut zu versuchen',
  waiting: 'Wartend',
  progressLabel: 'Export der vorhandenen Belege',
  progressText: (done, total) => `${done} von ${total} Belegen`,
  storage: 'OneDrive-Speicher',
  storageText: (used, total, free) => `${used} von ${total} belegt, ${free} frei`,
  storageUnknown: 'Noch nicht gemessen.',
  storageNearing: 'Ihr OneDrive ist fast voll.',
  storageCritical: 'Ihr OneDrive ist beinahe voll: bald kommen keine Belege mehr an.',
  storageFull: 'Handlung nötig: Schaffen Sie Platz in OneDrive und klicken Sie dann auf „Jetzt synchronisieren“.',
  needsYou: 'Ihre Aktion ist nötig',
  reconnectTexts: {
    qonto: 'Qonto akzeptiert die Anmeldung dieser Integration nicht mehr (Zugriff in Qonto widerrufen oder abgelaufen). Melden Sie sich erneut an, bei Qonto und dann mit demselben Microsoft-Konto: Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde, und nichts wird doppelt exportiert.',
    microsoft: 'Microsoft akzeptiert diese Anmeldung nicht mehr (Einwilligung widerrufen oder Passwort geändert). Melden Sie sich erneut mit demselben Konto an: Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde.',
    unknown: 'Die Anmeldung dieser Integration ist abgelaufen. Melden Sie sich erneut mit demselben Microsoft-Konto an: Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde.',
    qontoApiKey:
      'Qonto akzeptiert den API-Schlüssel dieses Dienstes nicht mehr (in Qonto neu erzeugt oder widerrufen). Wer den Dienst betreibt, setzt einen neuen (QONTO_API_LOGIN und QONTO_API_SECRET) und startet ihn neu; melden Sie sich dann erneut mit demselben Microsoft-Konto an: Die Synchronisierung wird dort fortgesetzt, wo sie unterbrochen wurde.',
  },
  reconnectButton: 'Erneut anmelden',
  freeSpaceText: 'Schaffen Sie Platz in Ihrem OneDrive (oder erweitern Sie den Speicher) und klicken Sie dann auf „Jetzt synchronisieren“.',
  failedText: 'Klicken Sie auf „Jetzt synchronisieren“, um es erneut zu versuchen. Die Temporal-Oberfläche zeigt, was passiert ist.',
  retryText: (when: string) =>
    `Ein neuer Versuch folgt von selbst am ${when}, oder sofort mit „Jetzt synchronisieren“. Wenn es weiter fehlschlägt, zeigt die Temporal-Oberfläche, was passiert ist.`,
  lastError: 'Letztes Problem',
  byFolder: 'Belege nach Konto und Zeitraum',
  folder: 'Konto',
  period: 'Zeitraum',
  noReceiptsYet: 'Noch keine Belege für diesen Zeitraum gefunden.',
  actions: 'Aktionen',
  syncNow: 'Jetzt synchronisieren',
  syncRequested: 'Synchronisierung angefordert.',
  reconfigure: 'Neu konfigurieren',
  reconfigureText: 'Alles ab dem Startdatum wird erneut exportiert, auch Ordner, die Sie gelöscht haben.',
  save: 'Speichern und neu importieren',
  reconfigured: 'Gespeichert: die Belege werden neu importiert.',
  probative: {
    label: 'Auch die beweiskräftigen Kopien von Qonto speichern',
    help: 'Qonto bewahrt von vielen Belegen eine elektronisch signierte Kopie (PDF, PAdES) auf, die als Nachweis wie das Original gilt. Jede wird neben ihrem Beleg als „…-probative.pdf“ gespeichert, sobald Qonto sie erstellt hat.',
    on: 'Beweiskräftige Kopien: werden neben den Belegen gespeichert.',
    off: 'Beweiskräftige Kopien: werden nicht gespeichert.',
  },
  withdraw: 'Einwilligung widerrufen',
  withdrawConfirmTitle: 'Einwilligung widerrufen?',
  withdrawConfirmText:
    'Die Synchronisierung endet und die Zugriffstoken für Microsoft und Qonto werden gelöscht. Dateien, die bereits in Ihrem OneDrive liegen, bleiben dort.',
  withdrawConfirm: 'Einwilligung widerrufen',
  cancel: 'Abbrechen',
  withdrawn: 'Einwilligung widerrufen.',
  temporalLink: 'Workflow in der Temporal-Oberfläche ansehen',
  exportLog: 'Exportprotokoll (jede Belegdatei mit Pfad und SHA-256):',
  exportLogCsv: 'als CSV herunterladen',
  exportLogJson: 'JSON',
  connectAnother: 'Ein OneDrive verbinden',
  actionFailed: 'Das hat nicht geklappt:',
  updated: 'Aktualisiert',
  driveTitle: 'Simuliertes OneDrive',
  driveEmpty: 'Noch nichts hier.',
  files: 'Dateien',
};

export const MESSAGES: Record<Locale, Messages> = { en, de };

const LANG_COOKIE = 'lang';

const isLocale = (value: string | undefined): value is Locale => (LOCALES as readonly string[]).includes(value ?? '');

/** The first supported language of an `Accept-Language` header, by quality; English otherwise. */
export function localeFromHeader(header: string | undefined): Locale {
  const ranked = (header ?? '')
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? 1);
      return { lang: tag.trim().toLowerCase().split('-')[0] ?? '', q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  return ranked.map((r) => r.lang).find(isLocale) ?? 'en';
}

/** `?lang=` switches (and is remembered in a cookie), else the cookie, else `Accept-Language`. */
export function localeOf(c: Context): Locale {
  const asked = c.req.query('lang');
  if (isLocale(asked)) {
    setCookie(c, LANG_COOKIE, asked, { path: '/', sameSite: 'Lax', maxAge: 365 * 86_400 });
    return asked;
  }
  const remembered = getCookie(c, LANG_COOKIE);
  return isLocale(remembered) ? remembered : localeFromHeader(c.req.header('accept-language'));
}
