import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { logProgress } from '../../src/progress-log.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/types.js';

const receipt = (id: string) => ({ attachmentId: id, transactionId: `tx-${id}`, bankAccountId: 'acc', folderPath: 'Main (1234)/2026/2026-03', fileName: `${id}.pdf`, fallbackFileName: `${id}-full.pdf`, size: 10 });

describe('progress in the log', () => {
  let store: Store;
  beforeEach(() => {
    vi.useFakeTimers();
    store = openSqliteStore(join(mkdtempSync(join(tmpdir(), 'progress-')), 'db.sqlite'));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await store.close();
  });

  it('prints a line while an integration imports, only when the numbers move', async () => {
    await store.createIntegration({ id: 'busy', status: 'backfilling' });
    await store.createIntegration({ id: 'quiet', status: 'idle' });
    await store.upsertDiscovered('busy', [receipt('a'), receipt('b'), receipt('c')]);
    await store.upsertDiscovered('quiet', [receipt('q')]);
    const lines: string[] = [];
    const stop = logProgress(store, (line) => lines.push(line));

    await vi.advanceTimersByTimeAsync(5_000);
    expect(lines).toEqual(['Backfill of integration busy: 0 of 3 receipts in OneDrive']);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(lines).toHaveLength(1);

    await store.updateEntry('busy', 'a', { state: 'uploaded' });
    await store.updateEntry('busy', 'b', { state: 'failed' });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(lines.at(-1)).toBe('Backfill of integration busy: 1 of 3 receipts in OneDrive (1 to retry)');

    await store.updateIntegration('busy', { status: 'idle' });
    await vi.advanceTimersByTimeAsync(15_000);
    expect(lines).toHaveLength(2);
    stop();
  });
});
