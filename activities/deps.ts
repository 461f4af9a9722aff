import type { OneDriveClient } from '../src/onedrive/client.js';
import type { QontoClient } from '../src/qonto/client.js';
import type { Store } from '../src/store/types.js';

/** What the activities need, injected by the worker (or a test). Clients are made per integration
 * because each one carries that integration's credentials, read from the store when needed. */
export interface ActivityDeps {
  store: Store;
  qonto: (integrationId: string) => QontoClient;
  onedrive: (integrationId: string) => OneDriveClient;
  /** Deletes every stored credential of the integration (consent withdrawn). */
  forgetTokens: (integrationId: string) => Promise<void>;
  /** Uploads in flight at once per export batch (Microsoft advises 1–2 against throttling). */
  uploadConcurrency?: number;
  /** A receipt that keeps failing transiently is set aside for this run after this many attempts. */
  attemptsPerRun?: number;
}
