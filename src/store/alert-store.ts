import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** What alerts know of an integration's person: where to write, in which language, and when a run
 * last completed (the clock of "no successful run for 30 h"). */
export interface AlertProfile {
  contactEmail: string | null;
  contactLanguage: string | null;
  lastSuccessAt: string | null;
  createdAt: string;
}

/** One occurrence of a condition: from when it began until it resolved (null while it lasts). */
export interface AlertRecord {
  condition: string;
  occurrence: string;
  startedAt: string;
  resolvedAt: string | null;
  /** False for an occurrence shown on the dashboard only (its mail was superseded). */
  mailed: boolean;
}

export interface AlertMailKey {
  integrationId: string;
  condition: string;
  occurrence: string;
  /** `alert`, `reminder-<n>`. */
  kind: string;
}

export type MailClaim = 'claimed' | 'busy' | 'done';

export interface AlertStore {
  profile(integrationId: string): Promise<AlertProfile | null>;
  /** Sets the fields given; `onlyIfUnset` leaves a contact e-mail or language already known alone. */
  updateProfile(integrationId: string, patch: Partial<Omit<AlertProfile, 'createdAt'>>, opts?: { onlyIfUnset?: boolean }): Promise<void>;
  /** Occurrences still under way. */
  active(integrationId: string): Promise<AlertRecord[]>;
  /** Records the occurrence unless it is already there (a retried activity opens it once). */
  open(integrationId: string, record: Omit<AlertRecord, 'resolvedAt'> & { resolvedAt?: string | null }): Promise<void>;
  resolve(integrationId: string, conditions: string[], at: string): Promise<void>;
  /** The newest occurrences first. */
  history(integrationId: string, limit: number): Promise<AlertRecord[]>;
  /**
   * Claims a mail for one attempt until `leaseUntil` (epoch ms), across processes: `claimed` when no
   * other attempt holds it (first claim, released, or its lease ran out: that attempt died, maybe after
   * the server accepted the mail); `busy` while another attempt's lease runs; `done` once sent or given
   * up. `now` (epoch ms) is the wall clock: a lease is about attempts that may still be running.
   */
  claimMail(key: AlertMailKey, claim: { at: string; now: number; leaseUntil: number }): Promise<MailClaim>;
  markMailSent(key: AlertMailKey, at: string): Promise<void>;
  /** The attempt failed and nothing was sent: another may claim it at once. */
  releaseMail(key: AlertMailKey): Promise<void>;
  /** Never to be sent (the server refused it for good, or it could not be sent for too long). */
  giveUpMail(key: AlertMailKey, at: string): Promise<void>;
  /** When the mail was first claimed (epoch ms of that claim's `at`), null if never. */
  mailFirstClaimed(key: AlertMailKey): Promise<string | null>;
  /** When each integration still syncing (not connecting, not revoked) last completed a run (null:
   * never): the "last successful run age" of the metrics. */
  lastSuccesses(): Promise<{ integrationId: string; lastSuccessAt: string | null }[]>;
  /** Keys of the mails marked sent, oldest first (tests, and the operator's questions). */
  sentMails(integrationId: string): Promise<AlertMailKey[]>;
}

const toRecord = (row: { condition: string; occurrence: string; started_at: string; resolved_at: string | null; mailed: number }): AlertRecord => ({
  condition: row.condition,
  occurrence: row.occurrence,
  startedAt: row.started_at,
  resolvedAt: row.resolved_at,
  mailed: row.mailed === 1,
});

export function alertStore(db: Kysely<Database>): AlertStore {
  const mail = (key: AlertMailKey) =>
    db
      .selectFrom('alert_mails')
      .where('integration_id', '=', key.integrationId)
      .where('condition', '=', key.condition)
      .where('occurrence', '=', key.occurrence)
      .where('kind', '=', key.kind);
  const updateMail = (key: AlertMailKey) =>
    db
      .updateTable('alert_mails')
      .where('integration_id', '=', key.integrationId)
      .where('condition', '=', key.condition)
      .where('occurrence', '=', key.occurrence)
      .where('kind', '=', key.kind);
  return {
    async profile(integrationId) {
      const row = await db
        .selectFrom('integrations')
        .select(['contact_email', 'contact_language', 'last_success_at', 'created_at'])
        .where('id', '=', integrationId)
        .executeTakeFirst();
      return row ? { contactEmail: row.contact_email, contactLanguage: row.contact_language, lastSuccessAt: row.last_success_at, createdAt: row.created_at } : null;
    },
    async updateProfile(integrationId, patch, opts = {}) {
      const keep = opts.onlyIfUnset === true;
      await db
        .updateTable('integrations')
        .set((eb) => ({
          ...(patch.contactEmail !== undefined
            ? { contact_email: keep ? eb.fn.coalesce('contact_email', eb.val(patch.contactEmail)) : patch.contactEmail }
            : {}),
          ...(patch.contactLanguage !== undefined
            ? { contact_language: keep ? eb.fn.coalesce('contact_language', eb.val(patch.contactLanguage)) : patch.contactLanguage }
            : {}),
          ...(patch.lastSuccessAt !== undefined ? { last_success_at: patch.lastSuccessAt } : {}),
        }))
        .where('id', '=', integrationId)
        .execute();
    },
    async active(integrationId) {
      const rows = await db.selectFrom('alerts').selectAll().where('integration_id', '=', integrationId).where('resolved_at', 'is', null).orderBy('started_at').orderBy('condition').execute();
      return rows.map(toRecord);
    },
    async open(integrationId, r) {
      await db
        .insertInto('alerts')
        .values({
          integration_id: integrationId,
          condition: r.condition,
          occurrence: r.occurrence,
          started_at: r.startedAt,
          resolved_at: r.resolvedAt ?? null,
          mailed: r.mailed ? 1 : 0,
        })
        .onConflict((oc) => oc.columns(['integration_id', 'condition', 'occurrence']).doNothing())
        .execute();
    },
    async resolve(integrationId, conditions, at) {
      if (conditions.length === 0) return;
      await db
        .updateTable('alerts')
        .set({ resolved_at: at })
        .where('integration_id', '=', integrationId)
        .where('condition', 'in', conditions)
        .where('resolved_at', 'is', null)
        .execute();
    },
    async history(integrationId, limit) {
      const rows = await db
        .selectFrom('alerts')
        .selectAll()
        .where('integration_id', '=', integrationId)
        .orderBy('started_at', 'desc')
        .orderBy('condition')
        .limit(limit)
        .execute();
      return rows.map(toRecord);
    },
    async claimMail(key, { at, now, leaseUntil }) {
      const inserted = await db
        .insertInto('alert_mails')
        .values({
          integration_id: key.integrationId,
          condition: key.condition,
          occurrence: key.occurrence,
          kind: key.kind,
          claimed_at: at,
          lease_until: leaseUntil,
          sent_at: null,
          given_up_at: null,
        })
        .onConflict((oc) => oc.columns(['integration_id', 'condition', 'occurrence', 'kind']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return 'claimed';
      // Taken over in one statement, so of two attempts racing for it exactly one gets it.
      const taken = await updateMail(key)
        .set({ lease_until: leaseUntil })
        .where('sent_at', 'is', null)
        .where('given_up_at', 'is', null)
        .where('lease_until', '<=', now)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) return 'claimed';
      const row = await mail(key).select(['sent_at', 'given_up_at']).executeTakeFirst();
      return row === undefined || row.sent_at !== null || row.given_up_at !== null ? 'done' : 'busy';
    },
    async releaseMail(key) {
      await updateMail(key).set({ lease_until: 0 }).execute();
    },
    async giveUpMail(key, at) {
      await updateMail(key)
        .set({ given_up_at: at, lease_until: 0 })
        .where('sent_at', 'is', null)
        .execute();
    },
    async mailFirstClaimed(key) {
      return (await mail(key).select('claimed_at').executeTakeFirst())?.claimed_at ?? null;
    },
    async markMailSent(key, at) {
      await updateMail(key).set({ sent_at: at }).execute();
    },
    async lastSuccesses() {
      const rows = await db
        .selectFrom('integrations')
        .select(['id', 'last_success_at'])
        .where('status', 'not in', ['connecting', 'revoked'])
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ integrationId: r.id, lastSuccessAt: r.last_success_at }));
    },
    async sentMails(integrationId) {
      const rows = await db
        .selectFrom('alert_mails')
        .select(['integration_id', 'condition', 'occurrence', 'kind'])
        .where('integration_id', '=', integrationId)
        .where('sent_at', 'is not', null)
        .orderBy('sent_at')
        .execute();
      return rows.map((r) => ({ integrationId: r.integration_id, condition: r.condition, occurrence: r.occurrence, kind: r.kind }));
    },
  };
}
