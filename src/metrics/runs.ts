import { Counter, Histogram } from 'prom-client';
import type { RunOutcome } from '../../workflows/state.js';
import { PREFIX, registry } from './registry.js';

const OUTCOMES: readonly RunOutcome[] = ['completed', 'quota_exceeded', 'reconnect_required', 'failed', 'revoked'];

const receipts = new Counter({
  name: `${PREFIX}receipts_total`,
  help: 'Receipts the export handled, by result: exported (uploaded and verified) or failed (set aside for this run, retried next run)',
  labelNames: ['result'] as const,
  registers: [registry],
});

const exportedBytes = new Counter({
  name: `${PREFIX}exported_bytes_total`,
  help: 'Bytes of the receipts exported to OneDrive',
  registers: [registry],
});

const runs = new Counter({
  name: `${PREFIX}runs_total`,
  help: 'Runs that ended, by outcome: completed, quota_exceeded, reconnect_required, failed, revoked',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

const duration = new Histogram({
  name: `${PREFIX}run_duration_seconds`,
  help: 'Duration of the runs that ended, from start to end, by outcome',
  labelNames: ['outcome'] as const,
  // A daily run takes seconds; a backfill of thousands of receipts up to hours.
  buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600],
  registers: [registry],
});

const runReceipts = new Histogram({
  name: `${PREFIX}run_receipts`,
  help: 'Receipts per run that ended, by result (exported, failed): a backfill shows as a large run',
  labelNames: ['result'] as const,
  buckets: [0, 1, 10, 100, 1000, 10_000],
  registers: [registry],
});

// Every outcome and result shows from the first scrape (at 0), so rate() and alerts see a series
// before the first event.
for (const outcome of OUTCOMES) {
  runs.inc({ outcome }, 0);
}
receipts.inc({ result: 'exported' }, 0);
receipts.inc({ result: 'failed' }, 0);

/** One receipt done by the export activity. */
export function observeReceipt(result: { kind: 'exported'; bytes: number } | { kind: 'failed' }): void {
  receipts.inc({ result: result.kind });
  if (result.kind === 'exported') exportedBytes.inc(result.bytes);
}

export interface RunEnded {
  outcome: RunOutcome;
  /** ISO times. */
  startedAt: string;
  finishedAt: string;
  exported: number;
  failed: number;
}

/** A run that ended (the workflow's `runEnded` activity reports it). Receipts are counted by the
 * export as they happen (observeReceipt), not again here. */
export function observeRunEnded(run: RunEnded): void {
  const outcome = OUTCOMES.includes(run.outcome) ? run.outcome : 'failed';
  runs.inc({ outcome });
  const seconds = (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000;
  if (Number.isFinite(seconds) && seconds >= 0) duration.observe({ outcome }, seconds);
  runReceipts.observe({ result: 'exported' }, run.exported);
  runReceipts.observe({ result: 'failed' }, run.failed);
}
