/**
 * A believable demo organization for the sandbox and end-to-end tests: a few business accounts,
 * months of card and transfer payments with receipts, and the awkward cases a receipt exporter
 * must survive. Deterministic for a given seed and clock: same ids, names, dates and sizes.
 *
 * The awkward cases: counterparty names with `/ : ? * " < > |`, emoji, accents, Windows-reserved
 * words and 200+ characters; receipt names without extension or with a misleading one; pending
 * and declined transactions; transactions with two receipts; receipts attached weeks after the
 * payment (late: found only through the `updated_at` cursor); payments with no receipt at all, some
 * of them declared lost (`attachment_lost`) and some for which none is expected (`attachment_required`
 * false); receipts whose probative copy is available, still pending, or unavailable.
 */
import { mulberry32 } from '../prng.js';
import type { QontoData, SimTransaction } from './data.js';

export interface DemoOptions {
  /** PRNG seed; default 42. */
  seed?: number;
  /** Business accounts to create; default 2. */
  accounts?: number;
  /** Months covered, ending with the current month of data.now(); default 3. */
  months?: number;
  /** Receipts to attach in total (the big file not included); default 40. */
  receipts?: number;
  /** Adds one transaction this month whose single receipt is a PDF of this many bytes. */
  bigFile?: { bytes: number };
  /** Receipt sizes; default uniform between 8 kB and 900 kB. */
  sizes?: ReceiptSizes;
}

/** Sizes spread as receipts are (many small scans, few large ones): log-uniform between `minBytes`
 * and `maxBytes`, except a `largeShare` (0..1) of receipts that are `largeBytes`. */
export interface ReceiptSizes {
  minBytes: number;
  maxBytes: number;
  largeBytes?: number;
  largeShare?: number;
}

export interface DemoSummary {
  bankAccountIds: string[];
  transactionIds: string[];
  attachmentIds: string[];
  /** Receipts attached two weeks or more after their payment. */
  lateAttachmentIds: string[];
  bigAttachmentId?: string;
  membershipIds: { owner: string; admin: string; accountant: string; employee: string; invited: string };
  counts: {
    transactions: number;
    pending: number;
    declined: number;
    withoutReceipt: number;
    twoReceipts: number;
    /** Payments without receipt declared lost. */
    lost: number;
    /** Payments without receipt for which none is expected. */
    notRequired: number;
  };
  /** Receipts by where their probative copy stands (the big file's has none). */
  probative: { available: string[]; pending: string[]; unavailable: string[] };
}

const DAY = 86_400_000;

const COUNTERPARTIES = [
  'Amazon EU SARL',
  'SNCF Voyageurs',
  'Free Pro',
  'Boulangerie Paul',
  'AC/DC Merch Store',
  'Café: Le Procope',
  'Why? Consulting',
  'Pizza 🍕 Napoli',
  'Société Générale des Eaux – Île-de-France',
  'OVH SAS',
  'Back\\slash "Quoted" <Tag> | Pipe * Star',
  'CON',
  'trailing dot.',
  'Уборка офиса ООО',
  '東京コンサルティング株式会社',
  `Compagnie Internationale des Wagons-Lits et du Tourisme ${'et des Grands Express Européens '.repeat(6)}`.trim(),
];

const ACCOUNT_NAMES = ['Compte principal', 'Marketing & Events', 'Taxes / Réserve', 'Projet: 2025?', 'Sous-compte 🚀'];

const FILE_KINDS = [
  { weight: 6, contentType: 'application/pdf', name: (n: number) => `facture-${n}.pdf` },
  { weight: 2, contentType: 'image/png', name: (n: number) => `Screenshot ${n}.png` },
  { weight: 2, contentType: 'image/jpeg', name: (n: number) => `IMG_${1000 + n}.JPG` },
  { weight: 1, contentType: 'application/pdf', name: (n: number) => `Reçu: n°${n}/2024?.pdf` },
  { weight: 1, contentType: 'image/jpeg', name: () => 'receipt' },
];

export function seedDemo(data: QontoData, opts: DemoOptions = {}): DemoSummary {
  const random = mulberry32(opts.seed ?? 42);
  const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number): boolean => random() < p;
  const uuid = (): string => {
    const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[int(0, 3)]}${hex.slice(17, 20)}-${hex.slice(20)}`;
  };
  const iso = (ms: number): string => new Date(ms).toISOString();
  const now = data.now();

  const member = (firstName: string, lastName: string, role: string | null, status = 'active'): string =>
    data.addMembership({ id: uuid(), firstName, lastName, role, status }).id;
  const membershipIds = {
    owner: member('Alice', 'Martin', 'owner'),
    admin: member('Bruno', 'Durand', 'admin'),
    accountant: member('Chloé', 'Lefèvre', 'accountant'),
    employee: member('David', 'Moreau', 'employee'),
    invited: member('Emma', 'Petit', null, 'invitable'),
  };

  const accountCount = opts.accounts ?? 2;
  const bankAccountIds = Array.from({ length: accountCount }, (_, i) =>
    data.addBankAccount({ id: uuid(), name: ACCOUNT_NAMES[i % ACCOUNT_NAMES.length]!, main: i === 0 }).id,
  );

  const months = opts.months ?? 3;
  const current = new Date(now);
  const firstMonth = Date.UTC(current.getUTCFullYear(), current.getUTCMonth() - (months - 1), 1);
  /** A payment time within the covered months, never in the future. */
  const paymentTime = (): number => firstMonth + Math.floor(random() * (now - firstMonth));

  const summary: DemoSummary = {
    bankAccountIds,
    transactionIds: [],
    attachmentIds: [],
    lateAttachmentIds: [],
    membershipIds,
    counts: { transactions: 0, pending: 0, declined: 0, withoutReceipt: 0, twoReceipts: 0, lost: 0, notRequired: 0 },
    probative: { available: [], pending: [], unavailable: [] },
  };
  let fileNo = 0;

  const addPayment = (emitted: number, status: SimTransaction['status']): SimTransaction => {
    const counterparty = pick(COUNTERPARTIES);
    const card = chance(0.7);
    const settled = status === 'completed' ? Math.min(now, emitted + int(0, 2) * DAY) : null;
    const tx = data.addTransaction({
      id: uuid(),
      bankAccountId: pick(bankAccountIds),
      amount: int(150, 250_000) / 100,
      side: 'debit',
      status,
      operationType: card ? 'card' : 'transfer',
      label: counterparty,
      counterpartyName: counterparty,
      cardLastDigits: card ? String(int(1000, 9999)) : null,
      category: pick(['office_supply', 'transport', 'restaurant_and_bar', 'online_service', 'utility']),
      vatRate: pick([20, 10, 5.5, null]),
      emittedAt: iso(emitted),
      settledAt: settled === null ? null : iso(settled),
      createdAt: iso(emitted),
      updatedAt: iso(settled ?? emitted),
    });
    summary.transactionIds.push(tx.id);
    summary.counts.transactions++;
    return tx;
  };

  const sizes = opts.sizes;
  const receiptSize = (): number => {
    if (!sizes) return int(8_000, 900_000);
    if (sizes.largeBytes !== undefined && chance(sizes.largeShare ?? 0)) return sizes.largeBytes;
    return Math.round(sizes.minBytes * (sizes.maxBytes / sizes.minBytes) ** random());
  };

  const attach = (tx: SimTransaction, attachedAt: number, size = receiptSize()): string => {
    const kind = pickWeighted(FILE_KINDS, random);
    fileNo++;
    const attachment = data.attachReceipt(tx.id, {
      id: uuid(),
      fileName: kind.name(fileNo),
      contentType: kind.contentType,
      size,
      createdAt: iso(Math.min(now, attachedAt)),
    });
    summary.attachmentIds.push(attachment.id);
    return attachment.id;
  };

  // The first four payments are scripted so every awkward case exists whatever the seed: a pending
  // one, one without receipt, a late receipt (when the period is long enough), two receipts.
  const wanted = opts.receipts ?? 40;
  let attached = 0;
  for (let i = 0; attached < wanted; i++) {
    const scripted = i <= 3;
    const emitted = Math.max(
      firstMonth,
      i === 0 ? now - int(2, 30) * 3_600_000 : i === 2 ? now - int(15, 40) * DAY : paymentTime(),
    );
    const status = i === 0 || (!scripted && now - emitted < 5 * DAY && chance(0.4)) ? 'pending' : 'completed';
    const tx = addPayment(emitted, status);
    if (status === 'pending') summary.counts.pending++;
    if (i === 1 || (!scripted && chance(0.1))) {
      summary.counts.withoutReceipt++;
      // Chosen by position, not by the PRNG, so every other value of the demo stays as it was.
      // Both flags were set when the payment was made: its `updated_at` stays as seeded.
      const nth = summary.counts.withoutReceipt;
      const seededUpdatedAt = tx.updatedAt;
      if (nth % 3 === 0) {
        data.setAttachmentLost(tx.id, true);
        summary.counts.lost++;
      } else if (nth % 5 === 4) {
        data.setAttachmentRequired(tx.id, false);
        summary.counts.notRequired++;
      }
      data.setUpdatedAt(tx.id, seededUpdatedAt);
      continue;
    }
    const late = now - emitted > 14 * DAY && (i === 2 || (!scripted && chance(0.15)));
    const attachedAt = late ? emitted + int(14, 40) * DAY : emitted + int(5, 48 * 60) * 60_000;
    const id = attach(tx, attachedAt);
    if (late) summary.lateAttachmentIds.push(id);
    attached++;
    if (attached < wanted && (i === 3 || (!scripted && chance(0.15)))) {
      attach(tx, attachedAt + int(1, 120) * 60_000);
      summary.counts.twoReceipts++;
      attached++;
    }
  }

  // Declined payments never get receipts; they must not show up in a default (completed) listing.
  for (let i = 0; i < Math.max(1, Math.round(wanted / 20)); i++) {
    addPayment(paymentTime(), 'declined');
    summary.counts.declined++;
    summary.counts.withoutReceipt++;
  }

  if (opts.bigFile) {
    const emitted = Math.max(Date.UTC(current.getUTCFullYear(), current.getUTCMonth(), 1), now - DAY);
    const tx = addPayment(emitted, 'completed');
    summary.bigAttachmentId = data.attachReceipt(tx.id, {
      id: uuid(),
      fileName: 'Rapport annuel (scan couleur).pdf',
      contentType: 'application/pdf',
      size: opts.bigFile.bytes,
      createdAt: iso(Math.min(now, emitted + 3_600_000)),
    }).id;
  }
  seedProbative(data, summary, mulberry32((opts.seed ?? 42) + 1));
  return summary;
}

/** A mix of probative copies, as Qonto has them: most receipts have one, some are still being made,
 * some never get one. Its own PRNG, so the rest of the demo is the same with or without it. */
function seedProbative(data: QontoData, summary: DemoSummary, random: () => number): void {
  for (const id of summary.attachmentIds) {
    const roll = random();
    const size = 20_000 + Math.floor(random() * 280_000);
    if (roll < 0.7) {
      data.setProbative(id, { status: 'available', size });
      summary.probative.available.push(id);
    } else if (roll < 0.8) {
      data.setProbative(id, { status: 'pending' });
      summary.probative.pending.push(id);
    } else summary.probative.unavailable.push(id);
  }
}

function pickWeighted<T extends { weight: number }>(items: readonly T[], random: () => number): T {
  let roll = random() * items.reduce((sum, item) => sum + item.weight, 0);
  for (const item of items) {
    roll -= item.weight;
    if (roll < 0) return item;
  }
  return items[items.length - 1]!;
}
