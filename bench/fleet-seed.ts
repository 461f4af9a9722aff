/**
 * The fleet benchmark's customers: one organization per integration in the one Qonto simulator (one
 * egress address), one personal Microsoft user each, and the integrations signed in to both without a
 * browser. Deterministic for a seed.
 */
import type { SimUser } from '../src/simulators/identity/directory.js';
import type { QontoData, SimMembership } from '../src/simulators/qonto/data.js';
import { mulberry32 } from '../src/simulators/prng.js';
import { signInToQontoWithSimulator, signInWithSimulator } from '../src/simulators/sign-in.js';
import type { Harness } from '../test/support/harness.js';

const DAY = 86_400_000;
/** Bytes are not what is measured: small receipts keep the machine on requests and scheduling. */
const MIN_BYTES = 1_000;
const MAX_BYTES = 4_000;
const MAX_RECEIPTS = 20;
const HISTORY_DAYS = 90;
/** Integrations signed in at once: HTTP to the OAuth and identity endpoints, not the limited API. */
const SIGN_IN_CONCURRENCY = 16;

export interface FleetTenant {
  integrationId: string;
  data: QontoData;
  owner: SimMembership;
  user: SimUser;
  accounts: number;
  /** Transactions seeded per account (each with one receipt), for the request estimate. */
  transactionsPerAccount: number[];
}

/** Integration `i`'s organization: 1 account (2 when `i % 3 === 0`) and 0–20 receipts over 3 months. */
export function seedFleet(h: Harness, count: number, seed: number): FleetTenant[] {
  const random = mulberry32(seed);
  const now = Date.now();
  const tenants: FleetTenant[] = [];
  for (let i = 0; i < count; i++) {
    const integrationId = `fleet-${String(i).padStart(5, '0')}`;
    const data = i === 0 ? h.sims.qonto.data : h.sims.qonto.tenants.add({ slug: `fleet-org-${i}`, name: `Fleet Org ${i}`, legalName: `FLEET ORG ${i}` });
    const accounts = Array.from({ length: i % 3 === 0 ? 2 : 1 }, () => data.addBankAccount());
    const transactionsPerAccount = accounts.map(() => 0);
    const receipts = Math.floor(random() * (MAX_RECEIPTS + 1));
    for (let r = 0; r < receipts; r++) {
      const a = r % accounts.length;
      const at = new Date(now - Math.floor(random() * HISTORY_DAYS * DAY)).toISOString();
      const tx = data.addTransaction({ bankAccountId: accounts[a]!.id, amount: 5 + Math.round(random() * 200), label: `Supplier ${r}`, emittedAt: at, createdAt: at });
      data.attachReceipt(tx.id, { fileName: `receipt-${r}.pdf`, contentType: 'application/pdf', size: receiptSize(random), createdAt: at });
      transactionsPerAccount[a]! += 1;
    }
    const owner = data.addMembership({ firstName: 'Owner', lastName: `Org${i}`, role: 'owner' });
    const user = h.sims.directory.addUser({ username: `${integrationId}@outlook.com`, name: `Fleet user ${i}`, kind: 'personal' });
    tenants.push({ integrationId, data, owner, user, accounts: accounts.length, transactionsPerAccount });
  }
  return tenants;
}

function receiptSize(random: () => number): number {
  return MIN_BYTES + Math.floor(random() * (MAX_BYTES - MIN_BYTES + 1));
}

/** Creates every integration and signs it in to Qonto (its owner consents) and to Microsoft. */
export async function connectFleet(h: Harness, tenants: FleetTenant[]): Promise<void> {
  const qontoOAuth = h.services.qontoOAuth;
  if (!qontoOAuth) throw new Error('the fleet runs in OAuth mode: the harness has no Qonto OAuth');
  const { store, microsoftAuth } = h.services;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < tenants.length) {
      const t = tenants[next++]!;
      await store.createIntegration({ id: t.integrationId });
      await signInToQontoWithSimulator(qontoOAuth, t.integrationId, t.owner.email);
      const account = await signInWithSimulator(microsoftAuth, t.integrationId, t.user.username);
      await store.updateIntegration(t.integrationId, { microsoftAccount: account });
    }
  };
  await Promise.all(Array.from({ length: SIGN_IN_CONCURRENCY }, lane));
}

/** Gives `share` of the organizations 1–3 new receipts today (new transactions): the measured day's change. */
export function addNewReceipts(tenants: FleetTenant[], share: number, seed: number): number {
  const random = mulberry32(seed ^ 0x5eed);
  let added = 0;
  for (const t of tenants) {
    if (random() >= share) continue;
    const account = t.data.bankAccounts()[0]!;
    const n = 1 + Math.floor(random() * 3);
    for (let r = 0; r < n; r++) {
      const tx = t.data.addTransaction({ bankAccountId: account.id, amount: 10 + r, label: `Today ${r}` });
      t.data.attachReceipt(tx.id, { fileName: `today-${r}.pdf`, contentType: 'application/pdf', size: receiptSize(random) });
      added += 1;
    }
  }
  return added;
}

/** Qonto API requests a backfill of the fleet needs: the organization, the owner's membership (the
 * alerts learn their contact from it once, in OAuth mode), one listing page (100 transactions) per
 * account, and `lookupsPerReceipt` attachment look-ups per receipt. */
export function estimatedBackfillRequests(tenants: FleetTenant[], lookupsPerReceipt: number): number {
  return tenants.reduce((n, t) => {
    const pages = t.transactionsPerAccount.reduce((p, tx) => p + Math.max(1, Math.ceil(tx / 100)), 0);
    const receipts = t.transactionsPerAccount.reduce((a, b) => a + b, 0);
    return n + 2 + pages + Math.ceil(receipts * lookupsPerReceipt);
  }, 0);
}
