import { describe, expect, it } from 'vitest';
import { AttachmentLinks } from '../../activities/attachment-links.js';
import { QontoClient } from '../../src/qonto/client.js';
import { attachmentBuffer } from '../../src/simulators/qonto/content.js';
import { probativeContentKey } from '../../src/simulators/qonto/data.js';
import { manifestKey } from '../../src/sync/probative.js';
import { KEY, useQontoSimulators } from '../support/qonto-sim.js';

const MINUTE = 60_000;
const simulator = useQontoSimulators();

async function readAll(body: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe('AttachmentLinks', () => {
  it('hands out a link once, and only while it is fresher than 25 minutes', () => {
    let now = 0;
    const links = new AttachmentLinks(10, () => now);
    links.remember('a', 'https://s3/a');
    links.remember('b', 'https://s3/b');
    expect(links.take('a')).toBe('https://s3/a');
    expect(links.take('a')).toBeUndefined();
    now += 25 * MINUTE;
    expect(links.take('b')).toBeUndefined();
  });

  it('keeps at most `capacity` links, making room by dropping expired ones', () => {
    let now = 0;
    const links = new AttachmentLinks(2, () => now);
    links.remember('a', 'u-a');
    links.remember('b', 'u-b');
    links.remember('c', 'u-c'); // full: not kept
    expect(links.size).toBe(2);
    expect(links.take('c')).toBeUndefined();
    links.remember('a', 'u-a2'); // a newer link for a kept receipt replaces it
    expect(links.take('a')).toBe('u-a2');
    now += 30 * MINUTE;
    links.remember('d', 'u-d');
    links.remember('e', 'u-e'); // b expired and made room
    expect(links.size).toBe(2);
    expect(links.take('e')).toBe('u-e');
  });

  it('downloads through a kept link without asking Qonto, and falls back to a fresh link when refused', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 12, label: 'Shop' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'r.pdf', contentType: 'application/pdf', size: 70_000 });
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY }, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    const { url } = await qonto.getAttachment(receipt.id);
    const lookups = () => sim.requests.filter((r) => r.path.startsWith('/v2/attachments/')).length;
    const links = new AttachmentLinks();

    links.remember(receipt.id, url);
    const before = lookups();
    expect(await readAll(await links.open(qonto, receipt.id))).toEqual(attachmentBuffer(receipt.id, 70_000));
    expect(lookups()).toBe(before);

    // A link the storage refuses (tampered signature, expired): a fresh one from Qonto, same bytes.
    links.remember(receipt.id, url.replace(/Signature=[^&]+/, 'Signature=00'));
    expect(await readAll(await links.open(qonto, receipt.id))).toEqual(attachmentBuffer(receipt.id, 70_000));
    expect(lookups()).toBe(before + 1);

    // No link kept: straight to Qonto.
    expect(await readAll(await links.open(qonto, receipt.id))).toHaveLength(70_000);
    expect(lookups()).toBe(before + 2);
  });

  it("downloads a probative copy by its manifest key: its kept link, else the copy's fresh link from Qonto", async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 12, label: 'Shop' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'r.jpg', contentType: 'image/jpeg', size: 5_000, probative: { status: 'available', size: 9_000 } });
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY } });
    const copy = attachmentBuffer(probativeContentKey(receipt.id), 9_000);
    const key = manifestKey(receipt.id, 'probative');
    const links = new AttachmentLinks();

    links.remember(key, (await qonto.getAttachment(receipt.id)).probative_attachment!.url!);
    expect(await readAll(await links.open(qonto, key))).toEqual(copy);
    // Not kept: the copy's own link is fetched, never the receipt's.
    expect(await readAll(await links.open(qonto, key))).toEqual(copy);
    expect(sim.requests.at(-1)!.path).toMatch(/^\/s3\/probative-attachments\//);
    expect(await readAll(await links.open(qonto, receipt.id))).toEqual(attachmentBuffer(receipt.id, 5_000));
  });

  it('uses a stored link at most once per process: a retry of the receipt gets a fresh link from Qonto', async () => {
    const { sim, account } = await simulator();
    const tx = sim.data.addTransaction({ bankAccountId: account.id, amount: 12, label: 'Shop' });
    const receipt = sim.data.attachReceipt(tx.id, { fileName: 'r.pdf', contentType: 'application/pdf', size: 30_000 });
    const qonto = new QontoClient({ baseUrl: sim.url, auth: { kind: 'apiKey', ...KEY } });
    const stored = { url: (await qonto.getAttachment(receipt.id)).url, at: Date.now() };
    const lookups = () => sim.requests.filter((r) => r.path.startsWith('/v2/attachments/')).length;
    const before = lookups();

    // Another worker discovered it: the stored link, no request to Qonto.
    const links = new AttachmentLinks();
    expect(await readAll(await links.open(qonto, receipt.id, undefined, () => stored))).toEqual(attachmentBuffer(receipt.id, 30_000));
    expect(lookups()).toBe(before);
    // Tried once here (it may be the one that dropped mid-body): a fresh link, the stored one is not reused.
    expect(await readAll(await links.open(qonto, receipt.id, undefined, () => stored))).toEqual(attachmentBuffer(receipt.id, 30_000));
    expect(lookups()).toBe(before + 1);

    // A link kept here was taken already: the stored one is not tried after it either.
    // The stored link is not even opened (unsealed) while a kept one serves.
    const other = new AttachmentLinks();
    other.remember(receipt.id, stored.url);
    let unsealed = 0;
    const sealed = () => (unsealed++, stored);
    await readAll(await other.open(qonto, receipt.id, undefined, sealed));
    expect(lookups()).toBe(before + 1);
    expect(unsealed).toBe(0);
    await readAll(await other.open(qonto, receipt.id, undefined, sealed));
    expect(lookups()).toBe(before + 2);
    expect(unsealed).toBe(0);
  });
});
