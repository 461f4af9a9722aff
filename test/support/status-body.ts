import type { IntegrationStatusBody } from '../../src/api/status.js';

/** A status API body of an idle integration, as the dashboard model reads it; `over` sets the rest. */
export function statusBody(over: Partial<IntegrationStatusBody> = {}): IntegrationStatusBody {
  return {
    id: 'i1',
    status: 'idle',
    syncFrom: '2026-01-01',
    timeZone: 'Europe/Paris',
    nextRunAt: '2026-11-27T22:30:00.000Z',
    lastRun: null,
    lastIncremental: null,
    counts: { exported: 0, failed: 0, pending: 0 },
    quota: null,
    lastError: null,
    signInEnded: null,
    microsoftAccount: 'camille@outlook.com',
    probativeCopies: false,
    phase: 'sleeping',
    backfill: { done: true, exported: 0, pending: 0 },
    alerts: { active: [], history: [] },
    webhook: null,
    revokedReason: null,
    ...over,
  };
}
