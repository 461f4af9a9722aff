import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EntryWrites, type EntryUpdate } from '../../activities/entry-writes.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function recorder(fail = false) {
  const writes: string[][] = [];
  const write = async (updates: EntryUpdate[]) => {
    writes.push(updates.map((u) => u.attachmentId));
    if (fail) throw new Error('disk full');
  };
  return { writes, write };
}

describe('EntryWrites', () => {
  it('writes a full group at once, the rest after the delay, each record once and in order', async () => {
    const { writes, write } = recorder();
    const buffer = new EntryWrites(write, 3, 50);
    for (const id of ['a', 'b', 'c', 'd']) buffer.add(id, { state: 'uploaded' });
    await vi.advanceTimersByTimeAsync(0);
    expect(writes).toEqual([['a', 'b', 'c']]);
    await vi.advanceTimersByTimeAsync(49);
    expect(writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(writes).toEqual([['a', 'b', 'c'], ['d']]);
    await buffer.flush();
    expect(writes).toHaveLength(2);
  });

  it('flush() writes what is left and waits for every write', async () => {
    let release!: () => void;
    const writes: string[][] = [];
    const buffer = new EntryWrites(async (updates) => {
      await new Promise<void>((resolve) => (release = resolve));
      writes.push(updates.map((u) => u.attachmentId));
    }, 25, 50);
    buffer.add('a', { state: 'uploaded' });
    let flushed = false;
    const flushing = buffer.flush().then(() => (flushed = true));
    await vi.advanceTimersByTimeAsync(100);
    expect(flushed).toBe(false);
    release();
    await flushing;
    expect(writes).toEqual([['a']]);
  });

  it('reports a write that failed in the background at the next flush', async () => {
    const { write } = recorder(true);
    const buffer = new EntryWrites(write, 25, 50);
    buffer.add('a', { state: 'uploaded' });
    await vi.advanceTimersByTimeAsync(50);
    await expect(buffer.flush()).rejects.toThrow('disk full');
  });
});
