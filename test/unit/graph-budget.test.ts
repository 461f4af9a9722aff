import { describe, expect, it } from 'vitest';
import { RateBudget, isBudgetRefusal, type BudgetStore } from '../../src/budget/rate-budget.js';
import { BackoffGate } from '../../src/http/backoff-gate.js';
import { OneDriveClient } from '../../src/onedrive/client.js';

const DRIVE = { id: 'drive-1', driveType: 'personal', quota: { total: 100, used: 1, remaining: 99, deleted: 0, state: 'normal' } };

function graphBudget(grant: boolean) {
  const reserved: number[] = [];
  const store: BudgetStore = {
    reserveRate: async (_name, permits) => {
      reserved.push(permits);
      return grant ? { granted: true, waitMs: 0, epoch: 0 } : { granted: false, retryInMs: 30_000 };
    },
    holdRate: async () => ({ holdMs: 0, epoch: 0 }),
    rateHold: async () => ({ epoch: 0, remainingMs: 0 }),
    clearRateHolds: async () => {},
  };
  return { reserved, permits: new RateBudget(store, 'graph', { windows: [{ windowMs: 10_000, limit: 100_000 }] }).lease() };
}

function drive(opts: { permits: ReturnType<typeof graphBudget>['permits']; sent: string[] }) {
  return new OneDriveClient({
    graphUrl: 'http://graph.test/v1.0',
    getAccessToken: async () => 'token',
    permits: opts.permits,
    maxBudgetWaitMs: 1_000,
    retry: { attempts: 1 },
    fetch: async (input) => {
      opts.sent.push(String(input instanceof Request ? input.url : input));
      return Response.json(DRIVE);
    },
  });
}

describe('OneDriveClient with the Graph budget', () => {
  it('takes its permits from blocks leased for the process: one reservation serves many requests', async () => {
    const { reserved, permits } = graphBudget(true);
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) await drive({ permits, sent }).getDrive();
    expect(sent).toHaveLength(3);
    expect(reserved).toEqual([100]);
  });

  it('takes the permit before anything is sent: a refusal sends nothing, and says when to retry', async () => {
    const { permits } = graphBudget(false);
    const sent: string[] = [];
    const error = await drive({ permits, sent }).getDrive().catch((e: unknown) => e);
    expect(isBudgetRefusal(error)).toBe(true);
    expect(sent).toEqual([]);
    expect((error as { retryAfterMs?: number }).retryAfterMs).toBe(30_000);
  });

  it("takes its permit only once the drive's gate lets the request through", async () => {
    const gate = new BackoffGate();
    gate.hold(200);
    const closedWhenReserved: number[] = [];
    const store: BudgetStore = {
      reserveRate: async () => (closedWhenReserved.push(gate.remaining()), { granted: true, waitMs: 0, epoch: 0 }),
      holdRate: async () => ({ holdMs: 0, epoch: 0 }),
      rateHold: async () => ({ epoch: 0, remainingMs: 0 }),
      clearRateHolds: async () => {},
    };
    const permits = new RateBudget(store, 'graph', { windows: [{ windowMs: 10_000, limit: 100_000 }] }).lease();
    const client = new OneDriveClient({
      graphUrl: 'http://graph.test/v1.0',
      getAccessToken: async () => 'token',
      permits,
      gate,
      maxBudgetWaitMs: 1_000,
      retry: { attempts: 1 },
      fetch: async () => Response.json(DRIVE),
    });
    await client.getDrive();
    expect(closedWhenReserved).toEqual([0]);
  });
});
