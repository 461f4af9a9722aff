/**
 * The lock around a read-refresh-store of one integration's tokens at one provider (both rotate
 * refresh tokens: two refreshes at once would spend the same one twice). Callers in this process
 * queue first, so that waiting ones do not each hold a database connection; the one at the head then
 * takes the store's lock, which spans every process sharing the store.
 */
import type { SignInProvider } from '../errors.js';
import type { Store } from '../store/types.js';
import { KeyedQueue } from './keyed-queue.js';

export class TokenLock {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly store: Pick<Store, 'withTokenLock'>,
    private readonly provider: SignInProvider,
  ) {}

  /** Runs `run` holding the lock of `integrationId`; a failure of one run does not stop the next. */
  run<T>(integrationId: string, run: () => Promise<T>): Promise<T> {
    return this.queue.run(integrationId, () => this.store.withTokenLock(integrationId, this.provider, run));
  }
}
