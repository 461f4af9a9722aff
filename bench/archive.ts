/**
 * One benchmarked archive: the simulators seeded with receipts, the store, and the product's worker as
 * its own process (what `npm start` runs), plus what the benchmark reads off them: traffic counters
 * and the worker's memory.
 */
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { statusQuery, syncNowSignal, workflowIdFor } from '../workflows/messages.js';
import type { IntegrationView } from '../workflows/state.js';
import type { ReceiptSizes } from '../src/simulators/qonto/demo.js';
import type { SimUser } from '../src/simulators/identity/directory.js';
import { DOWNLOAD_PATH_PREFIX } from '../src/simulators/qonto/signed-url.js';
import { settingsFrom, startIntegration } from '../src/temporal/integrations.js';
import { startHarness, type Harness } from '../test/support/harness.js';
import { startWorkerProcess, type WorkerProcess } from '../test/support/worker-process.js';

/**
 * The runtime settings proposed for `npm start`. A worker moving files at full speed allocates and
 * frees buffers of every size: glibc's per-thread malloc arenas and its sliding mmap threshold keep
 * the freed memory resident, and V8's 16 MB young generation adds its own. BENCH_WORKER_DEFAULTS=1
 * runs the worker without them.
 */
export const WORKER_RUNTIME: Record<string, string> =
  process.env.BENCH_WORKER_DEFAULTS === '1'
    ? {}
    : { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '131072', NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=1024' };
/** BENCH_WORKER_NODE_OPTIONS (profiling, GC tracing, semi-space trials) is appended to the worker's NODE_OPTIONS. */
if (process.env.BENCH_WORKER_NODE_OPTIONS) {
  WORKER_RUNTIME.NODE_OPTIONS = `${WORKER_RUNTIME.NODE_OPTIONS ?? ''} ${process.env.BENCH_WORKER_NODE_OPTIONS}`.trim();
}
/** BENCH_WORKER_EXEC_ARGV: flags Node refuses in NODE_OPTIONS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`. */
if (process.env.BENCH_WORKER_DIST === '1') WORKER_RUNTIME.BENCH_WORKER_DIST = '1';
if (process.env.BENCH_WORKER_EXEC_ARGV) WORKER_RUNTIME.BENCH_WORKER_EXEC_ARGV = process.env.BENCH_WORKER_EXEC_ARGV;

/**
 * Where the simulated OneDrive keeps its files: BENCH_SIM_STORAGE, else /dev/shm (memory) when it is
 * there, else the temp folder. The drive's storage is Microsoft's in production: written to this
 * machine's disk, the backfill's 2.3 GB cost the simulator 6 ms of disk per upload and up to half its
 * CPU (page cache writeback), time and cores the worker shares with it here but never in a deployment.
 */
function simStorageRoot(): string {
  const chosen = process.env.BENCH_SIM_STORAGE?.trim();
  if (chosen) return chosen;
  try {
    accessSync('/dev/shm', constants.W_OK);
    // A container's /dev/shm is 64 MiB unless given more: the archive (2.3 GB by default) must fit.
    const { bavail, bsize } = statfsSync('/dev/shm');
    if (bavail * bsize >= SHM_NEEDED_BYTES) return '/dev/shm';
  } catch {
    // no memory-backed folder here
  }
  return tmpdir();
}

/** Room /dev/shm must have to be used: the default archive, the 200 MB file and a margin. */
const SHM_NEEDED_BYTES = 4 * 2 ** 30;

export interface Traffic {
  /** Qonto API requests (listing, organization) and among them attachment look-ups. */
  qontoApi: number;
  qontoAttachmentLookups: number;
  /** Downloads from Qonto's signed links. */
  qontoDownloads: number;
  graphRequests: number;
  uploadHostRequests: number;
  graphConnections: number;
  uploadHostConnections: number;
  qontoConnections: number;
}

export interface Archive {
  h: Harness;
  worker: WorkerProcess;
  taskQueue: string;
  /** Where the simulated drive keeps its files (simStorageRoot() when the archive was opened). */
  simStorage: string;
  traffic(): Traffic;
  memory: WorkerMemory;
  close(): Promise<void>;
}

export async function openArchive(opts: {
  address: string;
  receipts: number;
  sizes: ReceiptSizes;
  latencyMs: number;
  seed: number;
}): Promise<Archive> {
  const simStorage = simStorageRoot();
  const driveDir = mkdtempSync(join(simStorage, 'bench-drive-'));
  // In memory, files left behind hold RAM until a reboot: removed when the benchmark exits, even on an
  // error (a Ctrl-C leaves them: rm -rf /dev/shm/bench-drive-*).
  const removeDrive = () => rmSync(driveDir, { recursive: true, force: true });
  process.once('exit', removeDrive);
  const h = await startHarness({
    latencyMs: opts.latencyMs,
    storageDir: driveDir,
    demo: { seed: opts.seed, accounts: 2, months: 12, receipts: opts.receipts, sizes: opts.sizes },
  });
  const qonto = countQontoRequests(h);
  const taskQueue = `bench-${Date.now().toString(36)}`;
  const worker = await startWorkerProcess({ ...h.env, ...WORKER_RUNTIME, TEMPORAL_ADDRESS: opts.address, TEMPORAL_TASK_QUEUE: taskQueue });
  const { traffic } = h.sims.graph;
  return {
    h,
    worker,
    taskQueue,
    simStorage,
    traffic: () => ({
      qontoApi: qonto.api,
      qontoAttachmentLookups: qonto.lookups,
      qontoDownloads: qonto.downloads,
      graphRequests: traffic.requests.graph,
      uploadHostRequests: traffic.requests.upload,
      graphConnections: traffic.connections.graph,
      uploadHostConnections: traffic.connections.upload,
      qontoConnections: h.sims.qonto.connections(),
    }),
    memory: new WorkerMemory(worker.child.pid!),
    async close() {
      await worker.stop();
      await h.close();
      removeDrive();
    },
  };
}

/** Counts the simulated Qonto's requests as they are recorded (it keeps only its last 1000): API
 * requests, among them attachment look-ups, and downloads from its signed links. */
export function countQontoRequests(h: Harness): { api: number; lookups: number; downloads: number; total(): number } {
  const qonto = { api: 0, lookups: 0, downloads: 0, total: () => qonto.api + qonto.downloads };
  const log = h.sims.qonto.requests;
  const record = log.push.bind(log);
  log.push = (...entries) => {
    for (const { path } of entries) {
      if (path.startsWith(DOWNLOAD_PATH_PREFIX)) qonto.downloads += 1;
      else if (path.startsWith('/v2/')) {
        qonto.api += 1;
        if (path.startsWith('/v2/attachments/')) qonto.lookups += 1;
      }
    }
    return record(...entries);
  };
  return qonto;
}

export function trafficSince(before: Traffic, after: Traffic): Traffic {
  const delta = { ...after };
  for (const key of Object.keys(delta) as (keyof Traffic)[]) delta[key] -= before[key];
  return delta;
}

/**
 * The worker's resident memory from /proc: VmRSS now, VmHWM the peak, which the kernel tracks (no
 * sampling gap) and which can be reset to the current RSS to measure one phase (clear_refs 5).
 */
export class WorkerMemory {
  constructor(private readonly pid: number) {}

  private field(name: 'VmRSS' | 'VmHWM'): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    return (Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024) / 2 ** 20;
  }

  rssMB(): number {
    return this.field('VmRSS');
  }

  peakMB(): number {
    return this.field('VmHWM');
  }

  resetPeak(): void {
    writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
  }

  /** CPU seconds the worker used so far (user + system): unlike the ratio, barely moved by other
   * processes on the machine. */
  cpuSeconds(): number {
    // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th, in ticks.
    const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }
}

/** USER_HZ of /proc/<pid>/stat on Linux (`getconf CLK_TCK`). */
const CLOCK_TICKS = 100;

/** An integration of the archive, driven and observed through Temporal. */
export class BenchIntegration {
  readonly id: string;
  readonly user: SimUser;

  private constructor(
    private readonly archive: Archive,
    private readonly client: Client,
    name: string,
  ) {
    this.id = `${name}-${Date.now().toString(36)}`;
    this.user = archive.h.newUser(this.id);
  }

  static async connect(archive: Archive, client: Client, name: string): Promise<BenchIntegration> {
    const integration = new BenchIntegration(archive, client, name);
    await archive.h.connect(integration.id, integration.user);
    return integration;
  }

  get workflowId(): string {
    return workflowIdFor(this.id);
  }

  /** Starts the workflow and waits for the backfill to finish. */
  async backfill(syncFrom: string, timeZone: string): Promise<IntegrationView> {
    const { h, taskQueue } = this.archive;
    await startIntegration(this.client, taskQueue, { integrationId: this.id, syncFrom, timeZone, settings: settingsFrom(h.config) });
    return this.waitFor((v) => v.runNumber >= 1 && v.lastRun !== null && v.phase.startsWith('sleeping'));
  }

  /** "Sync now", waiting for that run to finish. */
  async syncNow(): Promise<IntegrationView> {
    const handle = this.client.workflow.getHandle(this.workflowId);
    const before = await this.waitFor(() => true);
    await handle.signal(syncNowSignal);
    return this.waitFor((v) => v.runNumber > before.runNumber && v.phase.startsWith('sleeping'));
  }

  /** Events of every execution of the workflow so far (the chain of continue-as-new). */
  async historyEvents(): Promise<number[]> {
    const events: number[] = [];
    for await (const execution of this.client.workflow.list({ query: `WorkflowId = '${this.workflowId}'` })) {
      const history = await this.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
      events.push(history.events?.length ?? 0);
    }
    return events;
  }

  /** Seconds spent in each kind of activity (scheduled to closed) over the workflow's executions. */
  async activityTimes(): Promise<Record<string, number>> {
    const times: Record<string, number> = {};
    for await (const execution of this.client.workflow.list({ query: `WorkflowId = '${this.workflowId}'` })) {
      const events = (await this.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory()).events ?? [];
      const scheduled = new Map<string, { type: string; at: number }>();
      for (const event of events) {
        const at = Number(event.eventTime?.seconds ?? 0) + (event.eventTime?.nanos ?? 0) / 1e9;
        const a = event.activityTaskScheduledEventAttributes;
        if (a) scheduled.set(String(event.eventId), { type: a.activityType?.name ?? '?', at });
        const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
        const started = closed ? scheduled.get(String(closed.scheduledEventId)) : undefined;
        if (started) times[started.type] = Math.round(((times[started.type] ?? 0) + at - started.at) * 100) / 100;
      }
    }
    return times;
  }

  /** Each activity's scheduled/started/closed times (s since the first event), in history order. */
  async activityTimeline(): Promise<{ type: string; scheduled: number; started: number; closed: number }[]> {
    const rows: { type: string; scheduled: number; started: number; closed: number }[] = [];
    let origin: number | null = null;
    for await (const execution of this.client.workflow.list({ query: `WorkflowId = '${this.workflowId}'` })) {
      const events = (await this.client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory()).events ?? [];
      const byId = new Map<string, { type: string; scheduled: number; started: number }>();
      for (const event of events) {
        const at = Number(event.eventTime?.seconds ?? 0) + (event.eventTime?.nanos ?? 0) / 1e9;
        origin ??= at;
        const a = event.activityTaskScheduledEventAttributes;
        if (a) byId.set(String(event.eventId), { type: a.activityType?.name ?? '?', scheduled: at - origin, started: NaN });
        const s = event.activityTaskStartedEventAttributes;
        if (s) { const row = byId.get(String(s.scheduledEventId)); if (row) row.started = at - origin; }
        const closed = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
        const row = closed ? byId.get(String(closed.scheduledEventId)) : undefined;
        if (row) rows.push({ ...row, closed: Math.round((at - origin) * 1000) / 1000 });
      }
    }
    return rows.sort((x, y) => x.scheduled - y.scheduled);
  }

  async terminate(): Promise<void> {
    await this.client.workflow.getHandle(this.workflowId).terminate('benchmark over');
  }

  private async waitFor(done: (v: IntegrationView) => boolean): Promise<IntegrationView> {
    const handle = this.client.workflow.getHandle(this.workflowId);
    for (;;) {
      try {
        const v = await handle.query(statusQuery);
        if (done(v)) return v;
      } catch {
        // between continue-as-new and the next run's first task
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
