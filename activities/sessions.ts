import type { OneDriveClient } from '../src/onedrive/client.js';

/** Cleanup must not hold up the activity that gives up on the receipts. */
const CANCEL_TIMEOUT_MS = 30_000;

/**
 * Deletes the upload sessions of receipts given up on, so they do not sit half written on the drive
 * until they expire. Best effort (a session left behind still expires), and it stops when the
 * activity is cancelled.
 */
export async function cancelSessions(drive: OneDriveClient, uploadUrls: Iterable<string>, cancelled: AbortSignal): Promise<void> {
  const signal = AbortSignal.any([cancelled, AbortSignal.timeout(CANCEL_TIMEOUT_MS)]);
  await Promise.all([...new Set(uploadUrls)].map((url) => drive.cancelUploadSession(url, signal).catch(() => undefined)));
}
