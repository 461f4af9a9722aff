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
const MICROSOFT_SIGN_IN = 'Sign in to Microsoft again to keep your receipts in sync';

const german = (language: string) => async ({ id }: { id: string }) => bed.h.services.store.alerts.updateProfile(id, { contactLanguage: language });

it('a drive that fills up mails "full" once (not 90 % too), not again while it stays full, and "back to normal" once there is room (EN)', { timeout: 120_000 }, async () => {
  const t = await bed.start('alert-full', {}, ({ user }) => bed.h.sims.graph.drive(user.id).setQuota({ total: 400_000 }));
  await t.run(async () => {
    await t.status((v) => v.status === 'quota_exceeded' && v.phase.startsWith('sleeping'), 'the quota stop');
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    await t.status((v) => v.status === 'quota_exceeded' && v.runNumber === 2 && v.phase.startsWith('sleeping'), 'a second run on the full drive');
    expect(subjectsOf(t)).toEqual(['Your OneDrive is full: receipts are not being saved']);
    const [full] = mailsOf(t);
    expect(full!.to).toEqual([OPERATOR]);
    expect(full!.from).toBe('alerts@receipts.example.com');
    expect(full!.text).toContain('Your OneDrive has no room left for the next receipt.');
    expect(full!.text).toContain('receipts stay in Qonto and are not copied to OneDrive until there is room');
    expect(full!.text).toContain(`Free some space in OneDrive (or get more storage), then sync again from the dashboard:\n${link(t)}\n`);

    bed.h.sims.graph.drive(t.user.id).setQuota({ total: 5 * 1024 ** 3 });
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    await t.status((v) => v.status === 'idle' && v.runNumber === 3 && v.phase.startsWith('sleeping'), 'the run with room');
    expect(subjectsOf(t)).toEqual(['Your OneDrive is full: receipts are not being saved', 'Receipts sync back to normal']);
    expect(mailsOf(t)[1]!.text).toContain('Receipts that were waiting are now in OneDrive');
    const history = await bed.h.services.store.alerts.history(t.id, 10);
    expect(history.map((a) => [a.condition, a.mailed, a.resolvedAt !== null]).sort()).toEqual([
      ['back_to_normal', true, true],
      ['drive_full', true, true],
      ['drive_nearly_full', false, true],
    ]);
  });
});

it('a drive past 90 % mails once, not at every run while it stays there, though the first try was refused (DE)', { timeout: 120_000 }, async () => {
  const t = await bed.start('alert-ninety', {}, german('de'));
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
    expect(subjectsOf(t)).toEqual(['Ihr OneDrive ist zu über 90 % belegt']);
    const [mail] = mailsOf(t);
    expect(mail!.to).toEqual([OPERATOR]);
    expect(mail!.text).toContain('Ihr OneDrive ist zu mehr als 90 % belegt.');
    expect(mail!.text).toContain('Belege werden noch gespeichert');
    expect(mail!.text).toContain(`Die Speicheranzeige finden Sie im Dashboard:\n${link(t)}\n`);
  });
});

it('a sign-in that an incremental run (a webhook event) finds ended mails "sign in again" at once, as a full run would', { timeout: 120_000 }, async () => {
  const t = await bed.start('alert-token-webhook', { webhookDebounceMs: 500 });
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
    await smtp.arrival('of "sign in again"', () => mailsOf(t).find((m) => m.subject.startsWith('Sign in')));
    expect(subjectsOf(t)).toEqual([MICROSOFT_SIGN_IN]);
    data.setStatus(tx.id, 'declined');
  });
});

it('a refused Microsoft sign-in mails once, naming Microsoft, then, while nobody signs in again, "30 hours" at the mark and a reminder after 3 days (EN)', { timeout: 120_000 }, async () => {
  const t = await bed.start('alert-token');
  await t.run(async () => {
    const backfill = await t.status(sleepingAfter(1), 'the backfill');
    bed.h.sims.directory.revokeUser(t.user.id);
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    await t.status((v) => v.status === 'reconnect_required' && v.phase.includes('sign in again'), 'the wait for a reconnect');
    // Microsoft's sign-in ended, and the mail says so: not Qonto's.
    expect(subjectsOf(t)).toEqual([MICROSOFT_SIGN_IN]);
    const [signIn] = mailsOf(t);
    expect(message(signIn!)).toContain('Microsoft no longer accepts the sign-in to your OneDrive');
    expect(message(signIn!)).not.toContain('Qonto');
    expect(signIn!.text).toContain(`once you sign in again with the same Microsoft account from the dashboard:\n${link(t)}\n`);

    // The workflow waits for the user without any run: its alert timer still fires.
    const since = Date.parse(backfill.lastRun!.finishedAt);
    await bed.env.sleep(since + 30 * HOUR_MS + 60_000 - (await bed.env.currentTimeMs()));
    await smtp.arrival('at 30 h', () => mailsOf(t).find((m) => m.subject.startsWith('No receipts synced')));
    await bed.env.sleep(since + 72 * HOUR_MS + 60 * 60_000 - (await bed.env.currentTimeMs()));
    await smtp.arrival('of the reminder', () => mailsOf(t).find((m) => m.subject.startsWith('Reminder:')));
    expect(subjectsOf(t)).toEqual([
      MICROSOFT_SIGN_IN,
      'No receipts synced for more than 30 hours',
      `Reminder: ${MICROSOFT_SIGN_IN}`,
    ]);
    expect(mailsOf(t).every((m) => m.to.join() === OPERATOR)).toBe(true);
  });
});

it('a fault that lasts mails "failed" once over a day of retries and "30 hours" once, then "back to normal" (DE)', { timeout: 180_000 }, async () => {
  const t = await bed.start('alert-overdue', {}, german('de'));
  await t.run(async () => {
    const backfill = await t.status(sleepingAfter(1), 'the backfill');
    // Microsoft refuses every drive request: each run fails after its retries, and is retried with back-off.
    bed.h.sims.graph.faults.add({}, { kind: 'status', status: 403, code: 'accessDenied' }, Number.POSITIVE_INFINITY);
    await handleOf(bed.env.client, t.id).signal(syncNowSignal);
    await t.status((v) => v.status === 'failed' && v.phase.startsWith('sleeping'), 'the failed run');
    expect(subjectsOf(t)).toEqual(['Belegsynchronisierung fehlgeschlagen']);

    await bed.env.sleep(Date.parse(backfill.lastRun!.finishedAt) + 31 * HOUR_MS - (await bed.env.currentTimeMs()));
    await smtp.arrival('at 30 h', () => mailsOf(t).find((m) => m.subject.startsWith('Seit über 30 Stunden')));
    const failing = await t.status((v) => v.status === 'failed' && v.phase.startsWith('sleeping'), 'the back-off');
    expect(failing.runNumber).toBeGreaterThan(5);
    expect(subjectsOf(t)).toEqual(['Belegsynchronisierung fehlgeschlagen', 'Seit über 30 Stunden keine Belege synchronisiert']);
    expect(mailsOf(t)[1]!.text).toContain('Seitdem hinzugekommene Belege sind womöglich noch nicht in OneDrive.');

    bed.h.sims.graph.faults.clear();
    await bed.skipToNextRun(failing);
    await t.status((v) => v.status === 'idle' && v.phase.startsWith('sleeping'), 'the run without the fault');
    expect(subjectsOf(t)).toEqual([
      'Belegsynchronisierung fehlgeschlagen',
      'Seit über 30 Stunden keine Belege synchronisiert',
      'Belegsynchronisierung läuft wieder',
    ]);
    expect(mailsOf(t)[2]!.text).toContain(`Einzelheiten zeigt das Dashboard:\n${link(t)}\n`);
  });
});

it('withdrawn consent mails once, with the way to connect again (EN)', { timeout: 120_000 }, async () => {
  const t = await bed.start('alert-revoke');
  await t.run(async () => {
    await t.status(sleepingAfter(1), 'the backfill');
    await handleOf(bed.env.client, t.id).signal(revokeSignal);
    // A plain client: the test environment's result() would unlock time skipping while it waits.
    await handleOf(new Client({ connection: bed.env.connection, dataConverter }), t.id).result();
    const mails = smtp.matching('Receipts sync stopped: consent withdrawn');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.to).toEqual([OPERATOR]);
    expect(mails[0]!.text).toContain('The files already there stay where they are.');
    expect(mails[0]!.text).toContain(`To sync again, connect anew:\n${bed.h.config.PUBLIC_URL}/\n`);
  });
});
