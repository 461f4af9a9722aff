import { Client } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { revokeSignal, syncNowSignal, transactionsChangedSignal } from '../../workflows/messages.js';
import { dataConverter } from '../support/harness.js';
import { TestSmtp } from '../support/smtp.js';
import { Testbed, sleepingAfter, type StartedIntegration } from '../support/testbed.js';
import { handleOf } from '../support/workflow.js';

// The real workflow on the time-skipping server, its alerts mailed through a real SMTP server on
// loopback. The harness is in API-key mode, where ALERT_TO is the only recipient.
const OPERATOR = 'ops@receipts.example.com';
let bed: Testbed;
let smtp: TestSmtp;
beforeAll(async () => {
  smtp = await TestSmtp.start();
  bed = await Testbed.create('time-skipping', { extraEnv: { SMTP_URL: smtp.url, ALERT_FROM: 'alerts@receipts.example.com', ALERT_TO: OPERATOR } });
});
afterAll(async () => {
  await bed?.close();
  await smtp?.close();
});
afterEach(async () => {
  bed.h.sims.graph.faults.clear();
  await bed.terminateStarted();
  smtp.received.length = 0;
});

const HOUR_MS = 60 * 60_000;

/** The mails about integration `t` (each carries its dashboard link), subjects in the order sent. */
const mailsOf = (t: StartedIntegration) => smtp.received.filter((m) => m.text.includes(`integration=${t.id}`));
const subjectsOf = (t: StartedIntegration) => mailsOf(t).map((m) => m.subject);
const link = (t: StartedIntegration) => `${bed.h.config.PUBLIC_URL}/?integration=${t.id}#alerts-${t.id}`;

/** A mail's own words, without the signature (which names both Qonto and OneDrive). */
const message = (m: { text: string }) => m.text.split(/\n-- ?\n/)[0]!;

/** What each case expects per language: subjects and sentences exactly as src/alerts/templates.ts
 * words them, written out here so that a mail in the wrong language fails. */
const WORDS = {
  en: {
    full: {
      subject: 'Your OneDrive is full: receipts are not being saved',
      what: 'Your OneDrive has no room left for the next receipt.',
      meaning: 'receipts stay in Qonto and are not copied to OneDrive until there is room',
      action: 'Free some space in OneDrive (or get more storage), then sync again from the dashboard:',
    },
    nearlyFull: {
      subject: 'Your OneDrive is over 90 % full',
      what: 'Your OneDrive is more than 90 % full.',
      meaning: 'Receipts are still being saved',
      action: 'The storage gauge is on the dashboard:',
    },
    signIn: {
      subject: 'Sign in to Microsoft again to keep your receipts in sync',
      what: 'Microsoft no longer accepts the sign-in to your OneDrive',
      action: 'once you sign in again with the same Microsoft account from the dashboard:',
    },
    reminder: 'Reminder: ',
    failed: { subject: 'Receipts sync failed' },
    noSuccess: { subject: 'No receipts synced for more than 30 hours', meaning: 'Receipts added since then may not be in OneDrive yet.' },
    backToNormal: {
      subject: 'Receipts sync back to normal',
      meaning: 'Receipts that were waiting are now in OneDrive',
      action: 'The dashboard shows the details:',
    },
    consent: {
      subject: 'Receipts sync stopped: consent withdrawn',
      meaning: 'The files already there stay where they are.',
      action: 'To sync again, connect anew:',
    },
  },
  de: {
    full: {
      subject: 'Ihr OneDrive ist voll: Belege werden nicht gespeichert',
      what: 'In Ihrem OneDrive ist kein Platz mehr für den nächsten Beleg.',
      meaning: 'Belege bleiben in Qonto und werden erst wieder nach OneDrive kopiert, wenn Platz ist',
      action: 'Geben Sie Speicherplatz in OneDrive frei (oder erweitern Sie ihn) und synchronisieren Sie dann erneut im Dashboard:',
    },
    nearlyFull: {
      subject: 'Ihr OneDrive ist zu über 90 % belegt',
      what: 'Ihr OneDrive ist zu mehr als 90 % belegt.',
      meaning: 'Belege werden noch gespeichert',
      action: 'Die Speicheranzeige finden Sie im Dashboard:',
    },
    signIn: {
      subject: 'Bitte erneut bei Microsoft anmelden, damit Ihre Belege synchronisiert werden',
      what: 'Microsoft akzeptiert die Anmeldung für Ihr OneDrive nicht mehr',
      action: 'sobald Sie sich im Dashboard erneut mit demselben Microsoft-Konto anmelden:',
    },
    reminder: 'Erinnerung: ',
    failed: { subject: 'Belegsynchronisierung fehlgeschlagen' },
    noSuccess: { subject: 'Seit über 30 Stunden keine Belege synchronisiert', meaning: 'Seitdem hinzugekommene Belege sind womöglich noch nicht in OneDrive.' },
    backToNormal: {
      subject: 'Belegsynchronisierung läuft wieder',
      meaning: 'Wartende Belege sind jetzt in OneDrive',
      action: 'Einzelheiten zeigt das Dashboard:',
    },
    consent: {
      subject: 'Belegsynchronisierung beendet: Einwilligung widerrufen',
      meaning: 'Die Dateien, die schon dort sind, bleiben erhalten.',
      action: 'Um wieder zu synchronisieren, verbinden Sie sich neu:',
    },
  },
} as const;
type Language = keyof typeof WORDS;

/** Stores the integration's contact language, which its mails are written in. */
const speaking = (language: Language) => async ({ id }: { id: string }) => bed.h.services.store.alerts.updateProfile(id, { contactLanguage: language });

/** Resolves once integration `t` has been mailed `count` mails in all; the subjects are asserted after. */
const nthMail = (t: StartedIntegration, count: number, what: string) => smtp.arrival(what, () => mailsOf(t)[count - 1]);

// Each case runs in both languages before the next case (not each language through all cases): the
// 30-hour cases move the test server's clock on by days, and an integration is created at wall-clock
// time, so a case whose integration never succeeds (the full drive) must come before them.
const LANGUAGES = Object.keys(WORDS) as Language[];

it.for(LANGUAGES)('a drive that fills up mails "full" once (not 90 % too), not again while it stays full, and "back to normal" once there is room (%s)', { timeout: 120_000 }, async (language) => {
  const w = WORDS[language];
  const t = await bed.start('alert-full', {}, async (s) => {
    await speaking(language)(s);
    bed.h.sims.graph.drive(s.user.id).setQuota({ total: 400_000 });
  });
  await t.run(async () => {
    await t.status((v) => v.status === 'quota_exceeded' && v.phase.startsWith('sleeping'), 'the quota stop');
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    await t.status((v) => v.status === 'quota_exceeded' && v.runNumber === 2 && v.phase.startsWith('sleeping'), 'a second run on the full drive');
    expect(subjectsOf(t)).toEqual([w.full.subject]);
    const [full] = mailsOf(t);
    expect(full!.to).toEqual([OPERATOR]);
    expect(full!.from).toBe('alerts@receipts.example.com');
    expect(full!.text).toContain(w.full.what);
    expect(full!.text).toContain(w.full.meaning);
    expect(full!.text).toContain(`${w.full.action}\n${link(t)}\n`);

    bed.h.sims.graph.drive(t.user.id).setQuota({ total: 5 * 1024 ** 3 });
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    await t.status((v) => v.status === 'idle' && v.runNumber === 3 && v.phase.startsWith('sleeping'), 'the run with room');
    expect(subjectsOf(t)).toEqual([w.full.subject, w.backToNormal.subject]);
    expect(mailsOf(t)[1]!.text).toContain(w.backToNormal.meaning);
    const history = await bed.h.services.store.alerts.history(t.id, 10);
    expect(history.map((a) => [a.condition, a.mailed, a.resolvedAt !== null]).sort()).toEqual([
      ['back_to_normal', true, true],
      ['drive_full', true, true],
      ['drive_nearly_full', false, true],
    ]);
  });
});

it.for(LANGUAGES)('a drive past 90 % mails once, not at every run while it stays there, though the first try was refused (%s)', { timeout: 120_000 }, async (language) => {
  const w = WORDS[language];
  const t = await bed.start('alert-ninety', {}, speaking(language));
  await t.run(async () => {
    await t.status(sleepingAfter(1), 'the backfill');
    expect(mailsOf(t)).toEqual([]);
    const drive = bed.h.sims.graph.drive(t.user.id);
    drive.setQuota({ total: Math.ceil(drive.quota().used / 0.92) });
    // The mail server refuses the first try: the activity fails and Temporal retries it.
    smtp.refuseNext = 1;
    smtp.refused = 0;
    for (const run of [2, 3]) {
      await handleOf(bed.env.client, t.id).signal(syncNowSignal);
      await t.status(sleepingAfter(run), `run ${run}`);
    }
    expect(smtp.refused).toBe(1);
    expect(subjectsOf(t)).toEqual([w.nearlyFull.subject]);
    const [mail] = mailsOf(t);
    expect(mail!.to).toEqual([OPERATOR]);
    expect(mail!.text).toContain(w.nearlyFull.what);
    expect(mail!.text).toContain(w.nearlyFull.meaning);
    expect(mail!.text).toContain(`${w.nearlyFull.action}\n${link(t)}\n`);
  });
});

it.for(LANGUAGES)('a sign-in that an incremental run (a webhook event) finds ended mails "sign in again" at once, as a full run would (%s)', { timeout: 120_000 }, async (language) => {
  const w = WORDS[language];
  const t = await bed.start('alert-token-webhook', { webhookDebounceMs: 500 }, speaking(language));
  await t.run(async () => {
    await t.status(sleepingAfter(1), 'the backfill');
    bed.h.sims.directory.revokeUser(t.user.id);
    const data = bed.h.sims.qonto.data;
    const tx = data.addTransaction({ bankAccountId: data.bankAccounts()[0]!.id, amount: 5, label: 'Webhook alert shop', side: 'debit' });
    const attachment = data.attachReceipt(tx.id, { fileName: 'w.pdf', contentType: 'application/pdf', size: 1_000 });
    await handleOf(bed.env.client, t.id).signal(transactionsChangedSignal, {
      changes: [{ transactionId: tx.id, attachmentIds: [attachment.id], receivedAt: new Date().toISOString() }],
    });
    const waiting = await t.status((v) => v.status === 'reconnect_required' && v.phase.includes('sign in again'), 'the wait for a reconnect');
    expect(waiting.lastIncremental).toMatchObject({ outcome: 'reconnect_required' });
    // The daily record is the backfill's: only the incremental run found the sign-in ended.
    expect(waiting.lastRun).toMatchObject({ kind: 'backfill', outcome: 'completed' });
    await nthMail(t, 1, 'of "sign in again"');
    expect(subjectsOf(t)).toEqual([w.signIn.subject]);
    expect(mailsOf(t)[0]!.text).toContain(w.signIn.what);
    data.setStatus(tx.id, 'declined');
  });
});

it.for(LANGUAGES)('a refused Microsoft sign-in mails once, naming Microsoft, then, while nobody signs in again, "30 hours" at the mark and a reminder after 3 days (%s)', { timeout: 120_000 }, async (language) => {
  const w = WORDS[language];
  const t = await bed.start('alert-token', {}, speaking(language));
  await t.run(async () => {
    const backfill = await t.status(sleepingAfter(1), 'the backfill');
    bed.h.sims.directory.revokeUser(t.user.id);
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    await t.status((v) => v.status === 'reconnect_required' && v.phase.includes('sign in again'), 'the wait for a reconnect');
    // Microsoft's sign-in ended, and the mail says so: not Qonto's.
    expect(subjectsOf(t)).toEqual([w.signIn.subject]);
    const [signIn] = mailsOf(t);
    expect(message(signIn!)).toContain(w.signIn.what);
    expect(message(signIn!)).not.toContain('Qonto');
    expect(signIn!.text).toContain(`${w.signIn.action}\n${link(t)}\n`);

    // The workflow waits for the user without any run: its alert timer still fires.
    const since = Date.parse(backfill.lastRun!.finishedAt);
    await bed.env.sleep(since + 30 * HOUR_MS + 60_000 - (await bed.env.currentTimeMs()));
    await nthMail(t, 2, 'at 30 h');
    await bed.env.sleep(since + 72 * HOUR_MS + 60 * 60_000 - (await bed.env.currentTimeMs()));
    await nthMail(t, 3, 'of the reminder');
    expect(subjectsOf(t)).toEqual([w.signIn.subject, w.noSuccess.subject, `${w.reminder}${w.signIn.subject}`]);
    expect(mailsOf(t).every((m) => m.to.join() === OPERATOR)).toBe(true);
  });
});

it.for(LANGUAGES)('a fault that lasts mails "failed" once over a day of retries and "30 hours" once, then "back to normal" (%s)', { timeout: 180_000 }, async (language) => {
  const w = WORDS[language];
  const t = await bed.start('alert-overdue', {}, speaking(language));
  await t.run(async () => {
    const backfill = await t.status(sleepingAfter(1), 'the backfill');
    // Microsoft refuses every drive request: each run fails after its retries, and is retried with back-off.
    bed.h.sims.graph.faults.add({}, { kind: 'status', status: 403, code: 'accessDenied' }, Number.POSITIVE_INFINITY);
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    await t.status((v) => v.status === 'failed' && v.phase.startsWith('sleeping'), 'the failed run');
    expect(subjectsOf(t)).toEqual([w.failed.subject]);

    await bed.env.sleep(Date.parse(backfill.lastRun!.finishedAt) + 31 * HOUR_MS - (await bed.env.currentTimeMs()));
    await nthMail(t, 2, 'at 30 h');
    const failing = await t.status((v) => v.status === 'failed' && v.phase.startsWith('sleeping'), 'the back-off');
    expect(failing.runNumber).toBeGreaterThan(5);
    expect(subjectsOf(t)).toEqual([w.failed.subject, w.noSuccess.subject]);
    expect(mailsOf(t)[1]!.text).toContain(w.noSuccess.meaning);

    bed.h.sims.graph.faults.clear();
    await bed.skipToNextRun(failing);
    await t.status((v) => v.status === 'idle' && v.phase.startsWith('sleeping'), 'the run without the fault');
    expect(subjectsOf(t)).toEqual([w.failed.subject, w.noSuccess.subject, w.backToNormal.subject]);
    expect(mailsOf(t)[2]!.text).toContain(`${w.backToNormal.action}\n${link(t)}\n`);
  });
});

it.for(LANGUAGES)('withdrawn consent mails once, with the way to connect again (%s)', { timeout: 120_000 }, async (language) => {
  const w = WORDS[language];
  const t = await bed.start('alert-revoke', {}, speaking(language));
  await t.run(async () => {
    await t.status(sleepingAfter(1), 'the backfill');
    await handleOf(bed.env.client, t.id).signal(revokeSignal);
    // A plain client: the test environment's result() would unlock time skipping while it waits.
    await handleOf(new Client({ connection: bed.env.connection, dataConverter }), t.id).result();
    // Its link is the start page, without the integration: the mails are told apart by subject.
    const mails = smtp.matching(w.consent.subject);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual([OPERATOR]);
    expect(mails[0]!.text).toContain(w.consent.meaning);
    expect(mails[0]!.text).toContain(`${w.consent.action}\n${bed.h.config.PUBLIC_URL}/\n`);
  });
});
