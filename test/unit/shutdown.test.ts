import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { SAME_SIGNAL_MS, SHUTDOWN_MARGIN_MS, stopOnSignals } from '../../src/roles/shutdown.js';

const logger = createLogger({ level: 'silent' });
let dispose: (() => void) | undefined;
afterEach(() => {
  dispose?.();
  vi.useRealTimers();
});

/** A stop that never ends: an activity that ignores its cancellation. */
const hanging = () => new Promise<void>(() => {});

describe('stopOnSignals', () => {
  it('starts the stop once on SIGTERM, and exits 1 at once on a second signal', () => {
    const exit = vi.fn();
    const stop = vi.fn(hanging);
    dispose = stopOnSignals(stop, { graceMs: 30_000, logger, exit });
    process.emit('SIGTERM');
    expect(stop).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    process.emit('SIGINT');
    expect(stop).toHaveBeenCalledTimes(1);
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('takes the same signal twice at once for one (Ctrl-C reaches npm start and its launcher), a later one for a second', () => {
    vi.useFakeTimers();
    const exit = vi.fn();
    const stop = vi.fn(hanging);
    dispose = stopOnSignals(stop, { graceMs: 30_000, logger, exit });
    process.emit('SIGINT');
    process.emit('SIGINT');
    expect(stop).toHaveBeenCalledTimes(1);
    expect(exit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(SAME_SIGNAL_MS);
    process.emit('SIGINT');
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('exits 1 when the stop outlasts the grace period by the margin', () => {
    vi.useFakeTimers();
    const exit = vi.fn();
    dispose = stopOnSignals(hanging, { graceMs: 5_000, logger, exit });
    process.emit('SIGTERM');
    vi.advanceTimersByTime(5_000 + SHUTDOWN_MARGIN_MS - 1);
    expect(exit).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('exits 1 when the stop fails', async () => {
    const exit = vi.fn();
    dispose = stopOnSignals(() => Promise.reject(new Error('store did not close')), { graceMs: 1_000, logger, exit });
    process.emit('SIGTERM');
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
  });
});
