import { describe, expect, it } from 'vitest';
import type { BudgetParams } from '../../src/store/types.js';
import { EMPTY_STATE, emissionIntervals, reserve } from '../../src/budget/gcra.js';
import { RateBudget, type BudgetStore } from '../../src/budget/rate-budget.js';
import { BackoffGate } from '../../src/http/backoff-gate.js';
import { QontoClient } from '../../src/qonto/client.js';
import { attachmentBuffer } from '../../src/simulators/qonto/content.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';

const simulator = useQontoSimulators();

/** A budget store that grants every slot at once and records what it was asked. */
function spyStore() {
  const calls = { reserveRate: 0, holdRate: 0 };
  const store: BudgetStore = {
    reserveRate: async () => {
      calls.reserveRate += 1;
      return { granted: true, waitMs: 0, epoch: 0 };
    },
    holdRate: async () => {
      calls.holdRate += 1;
      return { holdMs: 1_000, epoch: 1 };
    },
    rateHold: async () => ({ epoch: 0, remainingMs: 0 }),
    clearRateHolds: async () => {},
  };
  return { store, calls };
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe('QontoClient with the fleet budget', () => {
  it('waits out a window the gate opened while the request slept for its budget slot', async () => {
    const { sim, account } = await simulator();
    const gate = new BackoffGate();
    const store: BudgetStore = {
      // The slot is 200 ms away; meanwhile (below) the process's gate opens a window of 1 s.
      reserveRate: async () => ({ granted: true, waitMs: 200, epoch: 0 }),
      holdRate: async () => ({ holdMs: 1_000, epoch: 1 }),
      rateHold: async () => ({ epoch: 0, remainingMs: 0 }),
      clearRateHolds: async () => {},
    };
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY }, gate, budget: new RateBudget(store, 'qonto', { windows: [{ windowMs: 10_000, limit: 100 }] }) });
    const before = sim.requests.length;
    const listing = qonto.listTransactionsPage({ bankAccountId: account.id });
    await new Promise((r) => setTimeout(r, 50));
    gate.hold(1_000);
    // Well past the slot and still inside the window: nothing has reached Qonto.
    await new Promise((r) => setTimeout(r, 500));
    expect(sim.requests.length).toBe(before);
    await listing;
    expect(sim.requests.length).toBe(before + 1);
  });


  it('takes a permit for every API request, each retry included, and none for downloads', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Budgeted' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'f.pdf', contentType: 'application/pdf', size: 10_000 });
    sim.faults.add({ path: '/v2/transactions' }, { kind: 'status', status: 502 }, 1);
    const { store, calls } = spyStore();
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY }, budget: new RateBudget(store, 'qonto', { windows: [{ windowMs: 10_000, limit: 100 }] }), retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    await qonto.listTransactionsPage({ bankAccountId: account.id });
    expect(calls.reserveRate).toBe(2); // the 502 and its retry
    const download = await qonto.openAttachment(receipt.id);
    expect((await readAll(download.body)).equals(attachmentBuffer(receipt.id, 10_000))).toBe(true);
    expect(calls.reserveRate).toBe(3); // GET /v2/attachments/{id}; the download took none
  });

  it('writes no fleet hold for a 503 from the download origin, and the next process sends its API request at once', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 5, label: 'Throttled download' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'f.pdf', contentType: 'application/pdf', size: 1_000 });
    sim.faults.add({ path: '/s3/attachments/' }, { kind: 'status', status: 503, retryAfterSec: 0 }, 1);
    const { store, calls } = spyStore();
    const params = { windows: [{ windowMs: 10_000, limit: 100 }] };
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY }, budget: new RateBudget(store, 'qonto', params), retry: { baseDelayMs: 1, maxDelayMs: 5 } });
    await readAll((await qonto.openAttachment(receipt.id)).body);
    expect(sim.faults.served).toBe(1);
    expect(calls.holdRate).toBe(0);
    expect(calls.reserveRate).toBe(1);
    // Another process (its own budget handle and gate, the same store): its slot is granted with no
    // hold in the way, and its request is answered.
    const other = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY }, budget: new RateBudget(store, 'qonto', params) });
    expect((await other.getOrganization()).id).toBe(sim.data.organization.id);
    expect(calls).toEqual({ reserveRate: 2, holdRate: 0 });
  });

  it("after a 429, requests queued behind the process's gate reach Qonto spaced by the budget, not in a burst when it opens", async () => {
    const { sim } = await simulator();
    sim.faults.add({ path: '/v2/organization' }, { kind: 'status', status: 429, retryAfterSec: 1 }, 1);
    // The budget's GCRA on this process's clock, holds left out: only the process's gate keeps the
    // requests back, and the budget alone spaces them.
    const params: BudgetParams = { windows: [{ windowMs: 1_000, limit: 10 }], slackMs: 100 };
    const [interval] = emissionIntervals(params);
    let state = EMPTY_STATE;
    const store: BudgetStore = {
      reserveRate: async (_name, permits, p, maxWaitMs) => {
        const now = performance.now();
        const r = reserve(state, now, permits, p, maxWaitMs);
        if ('retryAt' in r) return { granted: false, retryInMs: r.retryAt - now };
        state = r.state;
        return { granted: true, waitMs: r.startAt - now, epoch: 0 };
      },
      holdRate: async () => ({ holdMs: 0, epoch: 0 }),
      rateHold: async () => ({ epoch: 0, remainingMs: 0 }),
      clearRateHolds: async () => {},
    };
    const arrivals: number[] = [];
    const qonto = new QontoClient({
      baseUrl: sim.url,
      auth: { kind: 'apiKey', ...KEY },
      budget: new RateBudget(store, 'qonto', params),
      maxBudgetWaitMs: 60_000,
      retry: { attempts: 1 },
      fetch: (input, init) => (arrivals.push(performance.now()), fetch(input, init)),
    });
    await expect(qonto.getOrganization()).rejects.toMatchObject({ status: 429 });
    arrivals.length = 0;
    await Promise.all(Array.from({ length: 8 }, () => qonto.getOrganization()));
    // Burst 1: two may go at once, and any third comes an interval (137.5 ms) after the first of them.
    // Asserted at half of it, so a loaded machine's late timers do not count; a burst is ~1 ms.
    arrivals.sort((a, b) => a - b);
    for (let i = 2; i < arrivals.length; i++) expect(arrivals[i]! - arrivals[i - 2]!).toBeGreaterThanOrEqual(interval! / 2);
  });
});
