import type { OneDriveClient } from '../src/onedrive/client.js';
import type { QontoClient } from '../src/qonto/client.js';
import type { Store } from '../src/store/types.js';
import type { AttachmentLinks } from './attachment-links.js';

/** Uploads in flight at once per export batch. Each waits on the network most of the time, so this
 * sets the throughput; all of them pause together when Microsoft throttles the drive (the drive's
 * back-off gate, src/http/backoff-gate.ts), so more lanes do not mean more throttled requests. */
export const DEFAULT_UPLOAD_CONCURRENCY = 10;

/** What the activities need, injected by the worker (or a test). Clients are made per integration
 * because each one carries that integration's credentials, read from the store when needed. */
export interface ActivityDeps {
  store: Store;
  qonto: (integrationId: string) => QontoClient;
  onedrive: (integrationId: string) => OneDriveClient;
  /** Deletes every stored credential of the integration (consent withdrawn). */
  forgetTokens: (integrationId: string) => Promise<void>;
  /** Uploads in flight at once per export batch (default DEFAULT_UPLOAD_CONCURRENCY). */
  uploadConcurrency?: number;
  /** A receipt that keeps failing transiently is set aside for this run after this many attempts. */
  attemptsPerRun?: number;
  /** Download links seen at discovery, shared by the activities of this worker (createActivities makes one). */
  attachmentLinks?: AttachmentLinks;
}
