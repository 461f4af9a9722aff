import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './types.js';

/** Single-use sign-in states (Microsoft's and Qonto's), taken in one statement whatever process asks,
 * and the epoch that ends every admin session at once. */
export function signInStatements(
  db: Kysely<Database>,
): Pick<Store, 'putSignIn' | 'takeSignIn' | 'putQontoSignIn' | 'takeQontoSignIn' | 'adminSessionEpoch' | 'bumpAdminSessionEpoch'> {
  return {
    async putSignIn(state, { integrationId, sealed, expiresAt }) {
      await db.insertInto('sign_ins').values({ state, integration_id: integrationId, sealed, expires_at: expiresAt }).execute();
    },
    async takeSignIn(state, at) {
      // One statement: the row goes to whichever DELETE runs first, whatever process sent it.
      const row = await db
        .deleteFrom('sign_ins')
        .where('state', '=', state)
        .where('expires_at', '>', at)
        .returning(['integration_id', 'sealed'])
        .executeTakeFirst();
      await db.deleteFrom('sign_ins').where('expires_at', '<=', at).execute();
      return row ? { integrationId: row.integration_id, sealed: row.sealed } : null;
    },

    async putQontoSignIn(id, { sealed, expiresAt }) {
      await db.deleteFrom('qonto_sign_ins').where('expires_at', '<=', Date.now()).execute();
      await db.insertInto('qonto_sign_ins').values({ id, sealed, expires_at: expiresAt }).execute();
    },
    async takeQontoSignIn(id, at) {
      const row = await db
        .deleteFrom('qonto_sign_ins')
        .where('id', '=', id)
        .where('expires_at', '>', at)
        .returning('sealed')
        .executeTakeFirst();
      return row?.sealed ?? null;
    },
    async adminSessionEpoch() {
      return (await db.selectFrom('admin_sessions').select('epoch').where('id', '=', 1).executeTakeFirstOrThrow()).epoch;
    },
    async bumpAdminSessionEpoch() {
      const row = await db
        .updateTable('admin_sessions')
        .set((eb) => ({ epoch: eb('epoch', '+', 1) }))
        .where('id', '=', 1)
        .returning('epoch')
        .executeTakeFirstOrThrow();
      return row.epoch;
    },
  };
}
