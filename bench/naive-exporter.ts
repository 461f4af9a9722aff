/**
 * The exporter the benchmark measures the engine against: what one would write first. One receipt at
 * a time with plain fetch: list the transactions, then per receipt fetch the attachment (a fresh
 * download link), download it whole, upload it (one PUT, or an upload session above 4 MiB). No
 * Temporal, no manifest, no hashing, no retries. Bench-only.
 */
const SIMPLE_UPLOAD_MAX = 4 * 1024 * 1024;
const FRAGMENT = 32 * 327_680; // 10 MiB, a multiple of 320 KiB as Graph requires

export interface NaiveTarget {
  qontoUrl: string;
  /** Organization API key, sent as `Authorization: login:secret`. */
  qontoLogin: string;
  qontoSecret: string;
  graphUrl: string;
  accessToken: () => Promise<string>;
  /** Folder under the app folder that receives the files. */
  folder: string;
  /** Which receipts (by position in the listing) to export; default all. */
  pick?: (index: number) => boolean;
}

export interface NaiveResult {
  /** Receipts in the listing, and how many were exported. */
  listed: number;
  exported: number;
  bytes: number;
  listSeconds: number;
  exportSeconds: number;
}

export async function naiveExport(t: NaiveTarget): Promise<NaiveResult> {
  const qonto = async (path: string): Promise<any> => {
    const res = await fetch(`${t.qontoUrl}${path}`, { headers: { authorization: `${t.qontoLogin}:${t.qontoSecret}` } });
    if (!res.ok) throw new Error(`Qonto GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const graph = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${t.graphUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${await t.accessToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`Graph ${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  const listStarted = performance.now();
  const { organization } = await qonto('/v2/organization');
  const attachmentIds: string[] = [];
  for (const account of organization.bank_accounts as { id: string }[]) {
    for (let page: number | null = 1; page !== null; ) {
      const body = await qonto(`/v2/transactions?bank_account_id=${account.id}&status[]=completed&status[]=pending&per_page=100&page=${page}`);
      for (const tx of body.transactions as { attachment_ids: string[] }[]) attachmentIds.push(...tx.attachment_ids);
      page = body.meta.next_page;
    }
  }
  await graph('POST', '/me/drive/special/approot/children', { name: t.folder, folder: {}, '@microsoft.graph.conflictBehavior': 'replace' });
  const listSeconds = (performance.now() - listStarted) / 1000;

  const exportStarted = performance.now();
  let exported = 0;
  let bytes = 0;
  for (const [index, id] of attachmentIds.entries()) {
    if (t.pick && !t.pick(index)) continue;
    const { attachment } = await qonto(`/v2/attachments/${id}`);
    const download = await fetch(attachment.url);
    if (!download.ok) throw new Error(`download ${id}: ${download.status}`);
    const data = Buffer.from(await download.arrayBuffer());
    const path = `/me/drive/special/approot:/${t.folder}/${id}.bin:`;
    if (data.length <= SIMPLE_UPLOAD_MAX) {
      const res = await fetch(`${t.graphUrl}${path}/content`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${await t.accessToken()}`, 'content-type': 'application/octet-stream' },
        body: data,
      });
      if (!res.ok) throw new Error(`upload ${id}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    } else {
      const { uploadUrl } = await graph('POST', `${path}/createUploadSession`, { item: { '@microsoft.graph.conflictBehavior': 'replace' } });
      for (let at = 0; at < data.length; at += FRAGMENT) {
        const end = Math.min(at + FRAGMENT, data.length);
        const res = await fetch(uploadUrl, {
          method: 'PUT',
          headers: { 'content-range': `bytes ${at}-${end - 1}/${data.length}` },
          body: data.subarray(at, end),
        });
        if (!res.ok) throw new Error(`upload ${id} bytes ${at}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    }
    exported += 1;
    bytes += data.length;
  }
  return { listed: attachmentIds.length, exported, bytes, listSeconds, exportSeconds: (performance.now() - exportStarted) / 1000 };
}
