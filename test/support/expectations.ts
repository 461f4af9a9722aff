import { QuickXorHash } from '../../src/onedrive/quickxorhash.js';
import { probativeContentKey, type QontoData, type SimAttachment } from '../../src/simulators/qonto/data.js';
import { attachmentBytes } from '../../src/simulators/qonto/content.js';
import type { SimDrive } from '../../src/simulators/graph/server.js';
import type { Store } from '../../src/store/types.js';
import { REPORT_FILE_NAMES } from '../../src/sync/drive-reports.js';
import { probativeFileName } from '../../src/sync/naming.js';
import { startOfLocalDay } from '../../src/sync/periods.js';
import { manifestKey } from '../../src/sync/probative.js';

/** Every receipt the integration must export: attachments of completed and pending transactions of
 * every account, emitted on or after the start date (computed from the simulator's data, not the code). */
export function expectedReceipts(data: QontoData, syncFrom: string, timeZone: string): SimAttachment[] {
  const from = Date.parse(startOfLocalDay(syncFrom, timeZone));
  return data
    .bankAccounts()
    .flatMap((a) => data.transactionsOf(a.id))
    .filter((t) => t.status !== 'declined' && Date.parse(t.emittedAt) >= from)
    .flatMap((t) => data.attachmentsOf(t.id));
}

const hashes = new Map<string, string>();

/** quickXorHash of the bytes Qonto serves for an attachment, streamed (cached per id and size). */
export async function sourceHash(a: Pick<SimAttachment, 'id' | 'size'>): Promise<string> {
  const key = `${a.id}:${a.size}`;
  let hash = hashes.get(key);
  if (!hash) {
    const h = new QuickXorHash();
    for await (const chunk of attachmentBytes(a.id, a.size)) h.update(chunk as Uint8Array);
    hash = h.digest();
    hashes.set(key, hash);
  }
  return hash;
}

/**
 * The drive holds exactly one file per expected receipt, plus one per expected probative copy, and
 * the reports the store recorded writing (nothing else under the app folder); each receipt
 * with the source's size and quickXorHash, at the path the manifest recorded. Returns a description of
 * every mismatch (empty when all is well) so a failure says what is wrong.
 */
export async function driveMismatches(
  drive: SimDrive,
  store: Store,
  integrationId: string,
  expected: SimAttachment[],
  appFolder = 'Apps/Qonto Receipts',
  /** Receipts whose probative copy must be beside them too (its own bytes, `…-probative.pdf`). */
  copies: SimAttachment[] = [],
): Promise<string[]> {
  const problems: string[] = [];
  const files = drive.listFiles().filter((f) => f.path.startsWith(`${appFolder}/`));
  const byId = new Map(files.map((f) => [f.id, f]));
  const claimed = new Set<string>();
  const copy = (a: SimAttachment) => {
    if (a.probative.status !== 'available') throw new Error(`the probative copy of ${a.id} is ${a.probative.status}`);
    return { ...a, id: probativeContentKey(a.id), key: manifestKey(a.id, 'probative'), original: a.id, size: a.probative.size };
  };
  const wanted = [...expected.map((a) => ({ ...a, key: a.id, original: null as string | null })), ...copies.map(copy)];
  for (const a of wanted) {
    const entry = await store.getEntry(integrationId, a.key);
    if (a.original !== null && entry) {
      const receipt = await store.getEntry(integrationId, a.original);
      if (!receipt || entry.fileName !== probativeFileName(receipt.fileName) || entry.folderPath !== receipt.folderPath) problems.push(`${a.key} is named ${entry.fileName}`);
    }
    if (!entry || entry.state !== 'uploaded' || !entry.driveItemId) {
      problems.push(`${a.key} (${a.fileName}) is ${entry?.state ?? 'unknown'}`);
      continue;
    }
    const file = byId.get(entry.driveItemId);
    if (!file) {
      problems.push(`${a.key} points at missing item ${entry.driveItemId}`);
      continue;
    }
    claimed.add(file.id);
    if (file.path !== `${appFolder}/${entry.folderPath}/${entry.fileName}`) problems.push(`${a.key} is at ${file.path}`);
    if (file.size !== a.size) problems.push(`${a.key}: size ${file.size} != ${a.size}`);
    const want = await sourceHash(a);
    if (file.quickXorHash !== want) problems.push(`${a.key}: hash ${file.quickXorHash} != ${want}`);
  }
  // The period folders' reports (EXPORT_LOG_CSV, MISSING_RECEIPTS_CSV) are expected where the store
  // recorded writing them, and nowhere else.
  const reports = new Set((await store.driveReports(integrationId)).map((r) => `${appFolder}/${r.folderPath}/${REPORT_FILE_NAMES[r.report]}`));
  for (const f of files) if (!claimed.has(f.id) && !reports.has(f.path)) problems.push(`unexpected file ${f.path}`);
  return problems;
}
