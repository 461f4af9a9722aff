import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities/index.js';
import type { AccountRef, ExportResult, OrganizationInfo } from '../activities/types.js';
import { retryDelayMs } from '../src/sync/retry.js';
import { nextLocalTime, parseSyncTime } from '../src/sync/schedule.js';
import { DEFAULT_SYNC_SPREAD_MINUTES, nextDailyRun, spreadOffsetMs } from '../src/sync/spread.js';
import { ALERTING_OPTIONS, IO_OPTIONS, QUICK_OPTIONS, REVOCATION_OPTIONS, SUBSCRIBING_OPTIONS, laneOf, waveOptions, type Lane } from './activity-options.js';
import { reconfigureProblem } from './reconfigure-args.js';
import { describe, failureType, signInEndedBy } from './run-failure.js';
import { reconfigureSignal, reconnectSignal, revokeSignal, statusQuery, syncNowSignal, transactionsChangedSignal } from './messages.js';
import {
  WEBHOOK_BURST_IDS,
  WEBHOOK_DEBOUNCE_MS,
  WEBHOOK_LIST_ABOVE,
  WEBHOOK_RECHECK_MS,
  initialState,
  type CarriedState,
  type IntegrationInput,
  type IntegrationView,
  type LastRun,
  type RunKind,
  type RunOutcome,
} from './state.js';
import {
  addChanges,
  backOff,
  emptyWebhookChanges,
  endBackOff,
  forgetSeenByFullRun,
  pendingCount,
  planRechecks,
  putBack,
  takeChanges,
  webhookWorkAt,
  type TakenChanges,
} from './webhook-changes.js';

/** Patch: bank accounts are discovered concurrently (executions started before list them one by one). */
const DISCOVER_ACCOUNTS_AT_ONCE = 'discover-accounts-at-once';
/** Patch: the drive's quota is read again after a run that exported something. */
const QUOTA_AFTER_EXPORT = 'quota-after-export';
/** Patch: a failed run is followed by a back-off (src/sync/retry.ts) instead of, for a failed
 * reconfiguration, the same run again at once and forever. Executions that ended their run before
 * it keep their old course when replayed. */
const BACKOFF_AFTER_FAILED_RUN = 'backoff-after-failed-run';
/** Patch: a reconfiguration left pending by a run that did not complete it (full drive, sign-in
 * ended, failure) waits for the timer (daily run or retry) or a new user action, instead of
 * starting again at once. Executions that started it again at once keep that course when replayed. */
const PENDING_RECONFIGURE_WAITS = 'pending-reconfigure-waits';
/** Patch: discovery is told whether to export Qonto's probative copies (and, when off, forgets them). */
const PROBATIVE_COPIES = 'probative-copies';
/** Patch: every run's end goes to the `runEnded` activity (alerts, last success), and a timer of
 * the alerts (reminders, 30 h without success) wakes the workflow while it waits. */
const RUN_ENDED = 'run-ended';
/** Patch: after a run's export, one activity writes the period folders' reports (EXPORT_LOG_CSV,
 * MISSING_RECEIPTS_CSV) that changed. */
const DRIVE_REPORTS = 'drive-reports';
/** Patch: transactions Qonto's webhooks name (signal `transactionsChanged`) are exported by an
 * incremental run after a short debounce. Executions from before it ignored that signal. */
const WEBHOOK_RUNS = 'webhook-runs';
/** Patch: a full run makes sure the integration is subscribed to Qonto's webhooks. */
const WEBHOOK_SUBSCRIPTION = 'webhook-subscription';
/** Patch: the daily run comes at SYNC_TIME plus the integration's offset in the spread window
 * (src/sync/spread.ts), and activities carry a Temporal priority by run kind (activity-options.ts).
 * Executions from before it replay with neither. */
const FLEET_WAVE = 'fleet-wave';
/** How late after SYNC_TIME the run of an execution from before the spread may have started and
 * still count as that day's scheduled run (servedSlot). */
const LEGACY_SLOT_MS = 10 * 60_000;

type Activities = ReturnType<typeof proxyActivities<SyncActivities>>;

// The proxies of executions from before FLEET_WAVE (no priority); options in activity-options.ts.
const io = proxyActivities<SyncActivities>(IO_OPTIONS);
const revocation = proxyActivities<SyncActivities>(REVOCATION_OPTIONS);
const alerting = proxyActivities<SyncActivities>(ALERTING_OPTIONS);
const subscribing = proxyActivities<SyncActivities>(SUBSCRIBING_OPTIONS);
const quick = proxyActivities<SyncActivities>(QUICK_OPTIONS);

/** After an alert check that failed, the next try. */
const ALERT_CHECK_RETRY_MS = 60 * 60_000;

export interface IntegrationOutcome {
  status: 'revoked';
  lastRun: LastRun | null;
}

/**
 * One workflow per integration (`integration-<id>`): backfill, then a run every day at SYNC_TIME in the
 * integration's zone, until consent is revoked. Continues as new after every run, so history stays small.
 */
export async function integrationWorkflow(input: IntegrationInput): Promise<IntegrationOutcome> {
  return new Integration(input).run();
}

class Integration {
  private readonly s: CarriedState;
  private readonly id: string;
  private revoked = false;
  private phase = 'starting';
  private nextRunAt: number | null = null;
  private runScope: CancellationScope | null = null;
  /** PENDING_RECONFIGURE_WAITS, asked once per execution from the main path (never first from a
   * condition's predicate). */
  private pendingWaits: boolean | undefined;
  /** WEBHOOK_RUNS, asked once per execution at the start of `run()`: an execution from before it
   * received the signal and ignored it, and replaying it must not add a timer or an activity. */
  private webhooksOn = false;
  /** When the sleep that started an incremental run was due for the daily run (or its retry): a
   * debounce or run that reaches it is followed by that run at once. */
  private dueAt: number | null = null;
  /** `dueAt` is the daily run's slot (not a retry's time). */
  private dueDaily = false;
  /** FLEET_WAVE, asked once per execution at the start of `run()`: the spread daily time and the
   * proxies with priority. Executions from before it keep 23:30 sharp and unprioritised activities. */
  private wave: ReturnType<typeof waveProxies> | null = null;
  /** The kind of the run under way (or last run in this execution): it picks the priority lane. */
  private runKind: RunKind | null = null;

  constructor(private readonly input: IntegrationInput) {
    this.id = input.integrationId;
    this.s = input.carried ?? initialState(input);
    setHandler(reconfigureSignal, (args) => {
      // The API validates too; a bad value reaching the workflow must not wedge it.
      const problem = reconfigureProblem(args);
      if (problem) {
        this.s.lastError = `Reconfiguration ignored: ${problem}`;
        return;
      }
      this.s.pendingReconfigure = { ...this.s.pendingReconfigure, ...args };
      this.s.reconfigureRequested = true;
    });
    setHandler(revokeSignal, () => {
      this.revoked = true;
      this.runScope?.cancel();
    });
    setHandler(reconnectSignal, () => {
      this.s.reconnectRequested = true;
    });
    setHandler(syncNowSignal, () => {
      this.s.syncNowRequested = true;
    });
    // Only records the ids: the main loop does the work, so the handler is always finished.
    setHandler(transactionsChangedSignal, (args) => {
      this.s.webhook ??= emptyWebhookChanges();
      addChanges(this.s.webhook, args?.changes);
    });
    setHandler(statusQuery, () => this.view());
  }

  async run(): Promise<IntegrationOutcome> {
    this.webhooksOn = patched(WEBHOOK_RUNS);
    this.wave = patched(FLEET_WAVE) ? waveProxies(this.id) : null;
    for (;;) {
      if (this.revoked) return this.finishRevoked();

      if (this.s.status === 'reconnect_required') {
        this.show('waiting for the user to sign in again');
        this.nextRunAt = null;
        await this.waitWithAlerts(() => this.revoked || this.s.reconnectRequested || this.longWait(), null);
        if (this.revoked) continue;
        // Signals alone grew the history while waiting: carry them on in a new execution.
        if (!this.s.reconnectRequested) return this.continueAsNew();
        this.s.runDue ??= 'sync';
      }
      this.s.reconnectRequested = false;

      const kind = this.s.runDue ?? this.requestedRun() ?? (await this.sleepUntilDue());
      if (kind === null) {
        if (this.longWait()) return this.continueAsNew();
        continue;
      }

      if (kind === 'incremental') {
        await this.runIncremental();
        // The daily run (or its retry) fell due meanwhile: it comes next, not tomorrow.
        if (this.dueAt !== null && Date.now() >= this.dueAt) {
          if (this.dueDaily && this.s.runDue === null) this.serveSlot(this.dueAt);
          this.s.runDue ??= this.s.pendingReconfigure ? 'reconfigure' : 'sync';
        }
      } else {
        const cut = await this.runOnce(kind);
        this.s.runDue = cut ? kind : null;
      }
      if (this.revoked) continue;
      return this.continueAsNew();
    }
  }

  /** Handlers only record, so they are finished at once; waiting for them keeps a message from being
   * lost with the execution. Pending webhook changes travel in the carried state. */
  private async continueAsNew(): Promise<never> {
    await condition(allHandlersFinished);
    return continueAsNew<typeof integrationWorkflow>({ ...this.input, carried: this.s });
  }

  /** While waiting, the history grew long (signals alone can do that): time to continue as new. */
  private longWait(): boolean {
    return this.webhooksOn && this.historyIsLong();
  }

  /** When an incremental run may take the waiting changes (epoch ms; null: none waits, or no
   * incremental run may start: before the backfill, while a sign-in must be renewed, or while a
   * reconfiguration is pending, whose run re-imports everything anyway). A failed incremental run's
   * back-off delays it. The sleep wakes only for this time, never for work no run may take. */
  private webhookWakeAt(): number | null {
    const w = this.s.webhook;
    if (!this.webhooksOn || !w || !this.s.backfilled || this.s.status === 'reconnect_required' || this.s.pendingReconfigure) return null;
    return webhookWorkAt(w);
  }

  /** Changed transactions are waiting (or a recheck is due) and an incremental run may take them now. */
  private webhookDue(): boolean {
    const at = this.webhookWakeAt();
    return at !== null && at <= Date.now();
  }

  /** Gathers changes for the debounce window (fixed, from the first id), or less when a burst
   * fills WEBHOOK_BURST_IDS; a user's request or a revocation ends it at once, and so does the time
   * of the daily run (`due`), which comes right after this incremental run. */
  private async debounce(due: number): Promise<RunKind | null> {
    const w = this.s.webhook!;
    const ms = Math.min(this.input.settings.webhookDebounceMs ?? WEBHOOK_DEBOUNCE_MS, due - Date.now());
    if (pendingCount(w) > 0 && !w.overflow && ms > 0) {
      this.show('gathering changes from Qonto');
      await condition(() => this.revoked || this.requestedRun() !== null || pendingCount(w) >= WEBHOOK_BURST_IDS || w.overflow || this.historyIsLong(), ms);
    }
    if (this.revoked) return null;
    return this.requestedRun() ?? (this.webhookDue() ? 'incremental' : null);
  }

  /** The run a message asks for, if any. A reconfiguration still pending from a run that did not
   * complete it (failed, full drive, sign-in ended) waits for the timer: only a message that arrived
   * since that run started counts. */
  private requestedRun(): RunKind | null {
    const asked = this.s.syncNowRequested || this.s.reconnectRequested;
    if (this.s.retryAt && !asked && !this.s.reconfigureRequested) return null;
    if (this.s.pendingReconfigure) {
      if (asked || this.s.reconfigureRequested) return 'reconfigure';
      this.pendingWaits ??= patched(PENDING_RECONFIGURE_WAITS);
      return this.pendingWaits ? null : 'reconfigure';
    }
    return asked ? 'sync' : null;
  }

  /** When the next run is due: the daily run, or the retry after a failed run if that comes sooner. */
  private nextDue(): { at: number; daily: number; retry: number | null } {
    const { hour, minute } = parseSyncTime(this.input.settings.syncTime);
    const zone = this.s.timeZone ?? this.input.settings.defaultTimeZone;
    let daily = this.wave ? nextDailyRun(Date.now(), zone, hour, minute, this.spreadMs()) : nextLocalTime(Date.now(), zone, hour, minute);
    // A day's slot is served once: after its run (or an execution from before the spread that ran at
    // SYNC_TIME sharp), asking from inside the window must not give the same evening again.
    const offset = this.wave ? this.spreadMs() : 0;
    const served = this.servedSlot(daily - offset, daily);
    if (served !== null && daily - offset <= served) daily = this.wave ? nextDailyRun(daily, zone, hour, minute, offset) : nextLocalTime(daily, zone, hour, minute);
    const retry = this.s.retryAt ? Date.parse(this.s.retryAt) : null;
    return { at: retry !== null && retry < daily ? retry : daily, daily, retry };
  }

  /** SYNC_TIME (epoch ms) of the last day whose scheduled run fell due, or null. A state carried from
   * before it was recorded counts a full run ('sync' or 'reconfigure') that started within
   * LEGACY_SLOT_MS of the candidate slot's SYNC_TIME and before its due time: the run at SYNC_TIME sharp
   * of an execution from before the spread (a wave of them may start a few minutes late). */
  private servedSlot(base: number, due: number): number | null {
    if (this.s.dailySlotServed !== undefined) return this.s.dailySlotServed === null ? null : Date.parse(this.s.dailySlotServed);
    const last = this.s.lastRun;
    if (!last || (last.kind !== 'sync' && last.kind !== 'reconfigure')) return null;
    const started = Date.parse(last.startedAt);
    return started >= base && started < Math.min(due, base + LEGACY_SLOT_MS) ? base : null;
  }

  /** The scheduled run of the slot due at `due` starts (now, or once an incremental run is over). */
  private serveSlot(due: number): void {
    this.s.dailySlotServed = new Date(due - (this.wave ? this.spreadMs() : 0)).toISOString();
  }

  /** This integration's offset after SYNC_TIME (settings from before SYNC_SPREAD_MINUTES spread by the default). */
  private spreadMs(): number {
    return spreadOffsetMs(this.id, this.input.settings.syncSpreadMinutes ?? DEFAULT_SYNC_SPREAD_MINUTES);
  }

  /** Sleeps until the next daily run (or the retry after a failed run, if sooner), or until a message
   * asks for something sooner. */
  private async sleepUntilDue(): Promise<RunKind | null> {
    const zone = this.s.timeZone ?? this.input.settings.defaultTimeZone;
    const { at, daily, retry } = this.nextDue();
    this.nextRunAt = at;
    const until = new Date(this.nextRunAt).toISOString();
    this.show(
      this.nextRunAt === retry
        ? `sleeping until ${until} (retry after ${this.s.failedRuns ?? 1} failed run${this.s.failedRuns === 1 ? '' : 's'} in a row)`
        : `sleeping until ${until} (${this.input.settings.syncTime} ${zone}${this.wave ? spreadText(this.spreadMs()) : ''})`,
    );
    this.dueAt = at;
    this.dueDaily = at === daily;
    // A recheck of a receipt not yet visible (or the end of a failed incremental run's back-off) can
    // come before the run; work no incremental run may take now does not wake it.
    const webhookAt = this.webhookWakeAt();
    const wake = webhookAt !== null && webhookAt < at ? webhookAt : at;
    const woken = await this.waitWithAlerts(() => this.revoked || this.requestedRun() !== null || this.webhookDue() || this.longWait(), wake);
    if (this.revoked) return null;
    if (woken || wake < at) return this.requestedRun() ?? (this.webhookDue() ? this.debounce(at) : null);
    // Due: the daily run, or the retry of a failed one (a failed reconfiguration is tried again).
    // The slot that fired: a timer set by an earlier version of this code fires at its own time, which
    // may be before the `daily` computed now.
    if (at === daily) this.serveSlot(Math.min(daily, Date.now()));
    return this.s.pendingReconfigure ? 'reconfigure' : 'sync';
  }

  /** One run: verify the drive, discover new receipts, export them in batches. Returns true when cut
   * short for continue-as-new (the same run resumes in the next execution). */
  private async runOnce(kind: RunKind): Promise<boolean> {
    const resuming = this.s.currentRun !== null;
    this.nextRunAt = null;
    this.runKind = kind;
    if (!resuming) {
      const startedAt = new Date().toISOString();
      this.s.runNumber += 1;
      this.s.syncNowRequested = false;
      this.s.reconfigureRequested = false;
      this.s.lastError = null;
      this.s.signInEnded = null;
      if (kind === 'reconfigure') this.applyReconfigure(this.s.pendingReconfigure);
      this.s.currentRun = { kind, startedAt, finishedAt: startedAt, outcome: 'completed', exported: 0, failed: 0, bytes: 0, requeued: 0, dismissed: 0 };
    }
    const run = this.s.currentRun!;
    this.s.runDue = kind;
    this.show(`${kind} run ${this.s.runNumber} starting`);
    await this.setStatus(this.s.backfilled ? 'syncing' : 'backfilling');
    if (this.revoked) return false;

    let cut = false;
    const scope = new CancellationScope();
    this.runScope = scope;
    try {
      await scope.run(async () => {
        cut = await this.syncSteps(run, kind === 'reconfigure' && !resuming ? this.s.pendingReconfigure : null);
      });
    } catch (error) {
      run.outcome = this.classify(error);
      if (run.outcome === 'reconnect_required') this.s.signInEnded = signInEndedBy(error);
      if (run.outcome !== 'revoked') {
        this.s.lastError = describe(error);
        // The message names files and accounts: it stays in the status, out of the logs.
        log.warn('run ended early', { outcome: run.outcome, failure: failureType(error) });
      }
    } finally {
      this.runScope = null;
    }
    if (cut) return true;

    run.finishedAt = new Date().toISOString();
    this.s.lastRun = run;
    this.s.currentRun = null;
    if (run.outcome === 'revoked') return false;
    if (patched(BACKOFF_AFTER_FAILED_RUN)) this.planRetry(run);
    if (run.outcome === 'completed' || run.outcome === 'quota_exceeded') this.s.backfilled = true;
    if (run.outcome === 'completed' && this.s.webhook) forgetSeenByFullRun(this.s.webhook, run.startedAt);
    // The status query says when the next run is as soon as this one is over, not only once the next
    // execution sleeps: the API shows "idle" with its next run (no command: nothing to replay).
    if (run.outcome !== 'reconnect_required') this.nextRunAt = this.nextDue().at;
    if (patched(RUN_ENDED)) await this.runEnded(run);
    await this.setStatus(run.outcome === 'completed' ? 'idle' : run.outcome);
    return false;
  }

  /** Alerts and the last success learn how the run ended. Never fails the workflow: without a mail
   * server the sync still goes on (the dashboard shows the alerts the store recorded). */
  private async runEnded(run: LastRun): Promise<void> {
    try {
      const { nextCheckAt } = await alerting.runEnded({
        integrationId: this.id,
        runNumber: this.s.runNumber,
        kind: run.kind,
        outcome: run.outcome,
        startedAt: run.startedAt,
        finishedAt: run.finishedAt,
        exported: run.exported,
        failed: run.failed,
        quota: this.s.quota,
        // The activity's input only (no new command): histories recorded without it replay unchanged.
        signInEnded: this.s.signInEnded ?? null,
      });
      this.s.alertCheckAt = nextCheckAt;
    } catch (error) {
      log.warn('alerts of the run could not be recorded', { failure: failureType(error) });
      this.s.alertCheckAt = new Date(Date.now() + ALERT_CHECK_RETRY_MS).toISOString();
    }
  }

  /**
   * Waits until `done` holds (true) or `until` (epoch ms; null: no limit) passes (false). When the
   * alerts' time comes first (a reminder, 30 h without success) they are checked on the way; a worker
   * that was away checks at once when it is back, with the workflow's clock. Without an alert time
   * this is the plain wait it replaces (executions from before RUN_ENDED never have one).
   */
  private async waitWithAlerts(done: () => boolean, until: number | null): Promise<boolean> {
    for (;;) {
      const check = this.s.alertCheckAt ? Date.parse(this.s.alertCheckAt) : null;
      if (check === null || (until !== null && check >= until)) {
        if (until !== null) return condition(done, until - Date.now());
        await condition(done);
        return true;
      }
      if (check > Date.now() && (await condition(done, check - Date.now()))) return true;
      if (done()) return true;
      try {
        ({ nextCheckAt: this.s.alertCheckAt } = await alerting.checkAlerts({ integrationId: this.id, now: new Date().toISOString(), signInEnded: this.s.signInEnded ?? null }));
      } catch (error) {
        log.warn('alerts could not be checked', { failure: failureType(error) });
        this.s.alertCheckAt = new Date(Date.now() + ALERT_CHECK_RETRY_MS).toISOString();
      }
    }
  }

  /** `reconfigured`: the reconfiguration this run applies (its reset comes after the drive check, so
   * folders the user deleted are still recognised by their cached ids). */
  private async syncSteps(run: LastRun, reconfigured: CarriedState['pendingReconfigure']): Promise<boolean> {
    this.show('reading the organization');
    const org = await this.quick().loadOrganization({
      integrationId: this.id,
      timeZone: this.s.configuredTimeZone,
      defaultTimeZone: this.input.settings.defaultTimeZone,
    });
    this.s.timeZone = org.timeZone;
    // Incremental runs use these instead of reading the organization again.
    this.s.accounts = org.accounts;
    if (patched(WEBHOOK_SUBSCRIPTION)) await this.ensureWebhookSubscription();

    this.show('checking the drive for deleted files and folders');
    const verified = await this.io().verifyDrive({ integrationId: this.id, deltaLink: this.s.deltaLink });
    this.s.deltaLink = verified.deltaLink;
    run.requeued += verified.requeued;
    run.dismissed += verified.dismissed;

    if (reconfigured) {
      this.show('reconfigured: importing everything again from the start date');
      await this.quick().resetForReimport(this.id);
      this.s.cursors = {};
      // Only now is the request done; one that arrived meanwhile waits for its own run.
      if (this.s.pendingReconfigure === reconfigured) this.s.pendingReconfigure = null;
    }

    const probative = patched(PROBATIVE_COPIES) ? { probativeCopies: this.s.probativeCopies ?? false } : {};
    const discover = async (account: OrganizationInfo['accounts'][number]) => {
      const found = await this.io().discoverAccount({
        integrationId: this.id,
        account,
        cursor: this.s.cursors[account.id] ?? null,
        syncFrom: this.s.syncFrom,
        timeZone: org.timeZone,
        ...probative,
      });
      if (found.cursor) this.s.cursors[account.id] = found.cursor;
    };
    if (patched(DISCOVER_ACCOUNTS_AT_ONCE)) {
      // Each listing waits on Qonto page after page: the accounts are listed side by side.
      this.show(`listing receipts of ${org.accounts.length} account(s)`);
      await Promise.all(org.accounts.map(discover));
    } else {
      for (const [i, account] of org.accounts.entries()) {
        this.show(`listing receipts of account ${i + 1} of ${org.accounts.length}`);
        await discover(account);
      }
    }

    const check = await this.quick().checkQuota(this.id);
    this.s.quota = check.quota;
    this.s.counts = check.counts;
    if (check.full) {
      run.outcome = 'quota_exceeded';
      this.s.lastError = quotaMessage(check.quota.remaining, check.counts.pendingBytes);
      return false;
    }

    for (;;) {
      this.show(`exporting receipts (${this.s.counts.pending} pending)`);
      const batch: ExportResult = await this.io().exportBatch({
        integrationId: this.id,
        runNumber: this.s.runNumber,
        batchSize: this.input.settings.batchSize,
      });
      if (batch.lastError) this.s.lastError = batch.lastError;
      if (await this.tallyBatch(run, batch)) return false; // the drive is full
      if (batch.remaining === 0) {
        // The run's uploads used space: measure again so the status (and the dashboard's gauge) says so.
        if (run.exported > 0 && patched(QUOTA_AFTER_EXPORT)) this.s.quota = (await this.quick().checkQuota(this.id)).quota;
        if (patched(DRIVE_REPORTS)) await this.writeReports();
        return false;
      }
      if (this.historyIsLong()) return true;
    }
  }

  /** Adds an export batch to the run. On a full drive the run stops: the quota is measured and the
   * message says how much room the waiting receipts need; returns true then. */
  private async tallyBatch(run: LastRun, batch: ExportResult): Promise<boolean> {
    run.exported += batch.exported;
    run.failed += batch.failed;
    run.bytes += batch.bytes;
    this.s.counts = batch.counts;
    if (!batch.quotaExceeded) return false;
    run.outcome = 'quota_exceeded';
    const check = await this.quick().checkQuota(this.id);
    this.s.quota = check.quota;
    this.s.lastError = quotaMessage(check.quota.remaining, check.counts.pendingBytes);
    return true;
  }

  /** Subscribes to Qonto's webhooks unless already done. Never fails the run: without webhooks the
   * daily run still exports everything. */
  private async ensureWebhookSubscription(): Promise<void> {
    const state = this.s.webhookStatus?.state;
    if (state === 'active' || state === 'manual') return;
    try {
      this.s.webhookStatus = await this.subscribing().ensureWebhookSubscription({ integrationId: this.id });
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('the webhook subscription could not be checked', { failure: failureType(error) });
    }
  }

  /**
   * An incremental run: only the transactions Qonto's webhooks named (and the rechecks due). The drive
   * is checked first (a deleted period folder stays deleted), then discovery by id, or by listing the
   * accounts for a burst, then the export of just those transactions' receipts. It counts as a run
   * (`runNumber`) but leaves the daily cursors, `lastRun`, alerts and the back-off alone: the daily run
   * stays the safety net. The status changes only when a sign-in ended or the drive is full.
   */
  private async runIncremental(): Promise<void> {
    const taken = takeChanges(this.s.webhook!, Date.now());
    this.runKind = 'incremental';
    this.s.runNumber += 1;
    const startedAt = new Date().toISOString();
    const run: LastRun = { kind: 'incremental', startedAt, finishedAt: startedAt, outcome: 'completed', exported: 0, failed: 0, bytes: 0, requeued: 0, dismissed: 0 };
    this.show(`incremental run ${this.s.runNumber}: ${taken.changes.length} changed transaction(s)`);
    let cut = false;
    const scope = new CancellationScope();
    this.runScope = scope;
    try {
      await scope.run(async () => {
        cut = await this.incrementalSteps(run, taken);
      });
    } catch (error) {
      run.outcome = this.classify(error);
      if (run.outcome !== 'revoked') {
        log.warn('incremental run ended early', { outcome: run.outcome, failure: failureType(error) });
        putBack(this.s.webhook!, taken);
      }
      if (run.outcome === 'failed') backOff(this.s.webhook!, Date.now(), retryDelayMs);
      if (run.outcome === 'reconnect_required') {
        this.s.signInEnded = signInEndedBy(error);
        this.s.lastError = describe(error);
      }
    } finally {
      this.runScope = null;
    }
    if (cut) putBack(this.s.webhook!, taken, true);
    run.finishedAt = new Date().toISOString();
    this.s.lastIncremental = run;
    if (run.outcome === 'completed') endBackOff(this.s.webhook!);
    if (run.outcome === 'reconnect_required' || run.outcome === 'quota_exceeded') {
      // These stop every run until the user acts, and the daily run would only find the same: the
      // user hears it now, as after a full run.
      await this.runEnded(run);
      await this.setStatus(run.outcome);
    } else if (run.outcome === 'completed' && run.exported > 0 && this.s.status === 'quota_exceeded') {
      // Space was freed: receipts fit again, as a full run that completes would say (its message goes too).
      this.s.lastError = null;
      await this.setStatus('idle');
    }
  }

  /** Returns true when cut short for continue-as-new (the changes go back to pending). */
  private async incrementalSteps(run: LastRun, taken: TakenChanges): Promise<boolean> {
    const accounts = this.s.accounts ?? (await this.readAccounts());
    const timeZone = this.s.timeZone ?? this.input.settings.defaultTimeZone;

    this.show('checking the drive for deleted files and folders');
    const verified = await this.io().verifyDrive({ integrationId: this.id, deltaLink: this.s.deltaLink });
    this.s.deltaLink = verified.deltaLink;
    run.requeued += verified.requeued;
    run.dismissed += verified.dismissed;

    const probativeCopies = this.s.probativeCopies ?? false;
    const ids = taken.changes.map((c) => c.transactionId);
    const listing = taken.overflow || taken.changes.length > WEBHOOK_LIST_ABOVE;
    const recheckMs = this.input.settings.webhookRecheckMs ?? WEBHOOK_RECHECK_MS;
    if (listing) {
      // A burst: a few list pages cost less than a request per transaction. The daily cursors stay
      // where they are, so the 23:30 listing still sees everything.
      this.show(`listing receipts of ${accounts.length} account(s)`);
      await Promise.all(
        accounts.map((account) =>
          this.io().discoverAccount({ integrationId: this.id, account, cursor: this.s.cursors[account.id] ?? null, syncFrom: this.s.syncFrom, timeZone, probativeCopies }),
        ),
      );
      // A receipt still processed by Qonto is not listed yet: looked at again, as on the path by id.
      const named = taken.changes.filter((c) => c.attachmentIds.length > 0);
      if (named.length > 0) {
        const unlisted = await this.quick().unlistedAttachments({ integrationId: this.id, changes: named });
        planRechecks(this.s.webhook!, taken, unlisted, Date.now(), recheckMs);
      }
    } else {
      this.show(`reading ${ids.length} changed transaction(s)`);
      const found = await this.io().discoverTransactions({ integrationId: this.id, changes: taken.changes, accounts, syncFrom: this.s.syncFrom, timeZone, probativeCopies });
      planRechecks(this.s.webhook!, taken, found.notVisible, Date.now(), recheckMs);
    }

    for (;;) {
      this.show('exporting the changed receipts');
      const batch: ExportResult = await this.io().exportBatch({
        integrationId: this.id,
        runNumber: this.s.runNumber,
        batchSize: this.input.settings.batchSize,
        // After a listing, whatever it found is exported (its cursor window bounds it): up to 1,000 ids
        // would otherwise go into the history with every batch. By id, at most WEBHOOK_LIST_ABOVE.
        ...(listing ? {} : { transactionIds: ids }),
      });
      if (await this.tallyBatch(run, batch)) return false; // the drive is full
      if (batch.remaining === 0) break;
      if (this.historyIsLong()) return true;
    }
    if (run.exported > 0) {
      this.s.quota = (await this.quick().checkQuota(this.id)).quota;
      await this.writeReports();
    }
    return false;
  }

  /** The accounts, for an execution whose last full run predates caching them. */
  private async readAccounts(): Promise<AccountRef[]> {
    const org = await this.quick().loadOrganization({ integrationId: this.id, timeZone: this.s.configuredTimeZone, defaultTimeZone: this.input.settings.defaultTimeZone });
    this.s.timeZone = org.timeZone;
    this.s.accounts = org.accounts;
    return org.accounts;
  }

  /** The period folders' reports: one activity per run, whatever the number of folders (it does
   * nothing when the operator turned them off). Optional: a failure leaves them for the next run
   * (nothing was recorded as written) and the run still counts as completed. */
  private async writeReports(): Promise<void> {
    this.show('writing the period reports');
    try {
      await this.io().writeDriveReports({ integrationId: this.id });
    } catch (error) {
      if (isCancellation(error)) throw error;
      log.warn('the period reports could not be written', { failure: failureType(error) });
    }
  }

  /** After a failed run the next one waits for the back-off (or the daily run, or the user); any
   * other outcome ends the back-off. */
  private planRetry(run: LastRun): void {
    if (run.outcome !== 'failed') {
      this.s.failedRuns = 0;
      this.s.retryAt = null;
      return;
    }
    this.s.failedRuns = (this.s.failedRuns ?? 0) + 1;
    this.s.retryAt = new Date(Date.parse(run.finishedAt) + retryDelayMs(this.s.failedRuns)).toISOString();
  }

  private applyReconfigure(change: CarriedState['pendingReconfigure']): void {
    if (!change) return;
    if (change.syncFrom) this.s.syncFrom = change.syncFrom;
    if (change.timeZone) {
      this.s.configuredTimeZone = change.timeZone;
      this.s.timeZone = change.timeZone;
    }
    if (change.probativeCopies !== undefined) this.s.probativeCopies = change.probativeCopies;
  }

  private classify(error: unknown): RunOutcome {
    if (this.revoked && isCancellation(error)) return 'revoked';
    const type = error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause.type : null;
    if (type === 'ReconnectRequired') return 'reconnect_required';
    if (type === 'QuotaExceeded') return 'quota_exceeded';
    return 'failed';
  }

  private historyIsLong(): boolean {
    const info = workflowInfo();
    const max = this.input.settings.maxHistoryEvents;
    return info.continueAsNewSuggested || (max !== undefined && info.historyLength > max);
  }

  private async setStatus(status: CarriedState['status']): Promise<void> {
    this.s.status = status;
    await CancellationScope.nonCancellable(() => this.quick().setStatus({ integrationId: this.id, status }));
  }

  private async finishRevoked(): Promise<IntegrationOutcome> {
    this.show('consent withdrawn: deleting stored tokens');
    this.nextRunAt = null;
    this.s.status = 'revoked';
    // The full run the withdrawal cut short, if one was under way, is counted by the revocation
    // (incremental runs are counted only when they stop the sync, as `runEnded` sees them): the last
    // run, ended `revoked`, or one revoked before its steps began, which ends now. It goes as the
    // activity's input only (no new command): histories recorded without it replay unchanged.
    const last = this.s.lastRun;
    const under = this.s.currentRun;
    const cut = last?.outcome === 'revoked' ? last : under ? { ...under, outcome: 'revoked' as const, finishedAt: new Date().toISOString() } : null;
    await CancellationScope.nonCancellable(() =>
      cut === null
        ? this.revocation().revokeConsent(this.id)
        : this.revocation().revokeConsent(this.id, { outcome: cut.outcome, startedAt: cut.startedAt, finishedAt: cut.finishedAt, exported: cut.exported, failed: cut.failed }),
    );
    this.show('consent withdrawn: stopped; exported files stay in the drive');
    await condition(allHandlersFinished);
    return { status: 'revoked', lastRun: this.s.lastRun };
  }

  private lane(): Lane {
    return laneOf(this.runKind, this.s.backfilled);
  }

  private io(): Activities {
    return this.wave ? this.wave.io[this.lane()] : io;
  }

  private quick(): Activities {
    return this.wave ? this.wave.quick[this.lane()] : quick;
  }

  private subscribing(): Activities {
    return this.wave ? this.wave.subscribing[this.lane()] : subscribing;
  }

  private revocation(): Activities {
    return this.wave ? this.wave.revocation : revocation;
  }

  /** Current details reach the UI as a payload (encrypted, decoded by the codec server), yet an operator
   * without the key still sees the workflow list: never personal data in `phase`. */
  private show(phase: string): void {
    this.phase = phase;
    setCurrentDetails(`**${this.s.status}**: ${phase}`);
  }

  private view(): IntegrationView {
    const c = this.s.counts;
    return {
      id: this.id,
      status: this.s.status,
      phase: this.phase,
      syncFrom: this.s.syncFrom,
      timeZone: this.s.timeZone,
      nextRunAt: this.nextRunAt === null ? null : new Date(this.nextRunAt).toISOString(),
      lastRun: this.s.lastRun,
      counts: { exported: c.exported, failed: c.failed, pending: c.pending, dismissed: c.dismissed },
      backfill: { done: this.s.backfilled, exported: c.exported, pending: c.pending + c.failed },
      quota: this.s.quota,
      lastError: this.s.lastError,
      signInEnded: this.s.signInEnded ?? null,
      runNumber: this.s.runNumber,
      lastIncremental: this.s.lastIncremental ?? null,
      pendingChanges: pendingCount(this.s.webhook) + (this.s.webhook?.recheck.length ?? 0),
    };
  }
}

/** The proxies of an execution from FLEET_WAVE on: priority (and fairness key) per lane. */
function waveProxies(integrationId: string) {
  const o = waveOptions(integrationId);
  const lanes = (options: Record<Lane, Parameters<typeof proxyActivities>[0]>): Record<Lane, Activities> => ({
    daily: proxyActivities<SyncActivities>(options.daily),
    bulk: proxyActivities<SyncActivities>(options.bulk),
  });
  return { io: lanes(o.io), quick: lanes(o.quick), subscribing: lanes(o.subscribing), revocation: proxyActivities<SyncActivities>(o.revocation) };
}

/** ` + 14 min` (` + 14 min 7 s`): the spread, as the phase names it; nothing without one. */
function spreadText(ms: number): string {
  if (ms <= 0) return '';
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.floor((ms % 60_000) / 1000);
  return ` + ${minutes} min${seconds > 0 ? ` ${seconds} s` : ''}`;
}

function quotaMessage(remaining: number, pendingBytes: number): string {
  return `The OneDrive is full: ${remaining} bytes free, ${pendingBytes} bytes of receipts waiting. Free some space; the next run (or "sync now") continues.`;
}
