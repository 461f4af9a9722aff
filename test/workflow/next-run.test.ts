import { afterEach, beforeEach, expect, it } from 'vitest';
import type { IntegrationStatus } from '../../src/store/types.js';
import { statusQuery } from '../../workflows/messages.js';
import { Testbed } from '../support/testbed.js';

let bed: Testbed;
beforeEach(async () => {
  bed = await Testbed.create();
});
afterEach(async () => {
  await bed?.terminateStarted();
  await bed?.close();
});

it('knows its next run as soon as a run is over: the status "idle" never comes with "not planned"', { timeout: 60_000 }, async () => {
  // Holds the activity that records the run's settled status, and asks the workflow meanwhile: the
  // API shows the store's "idle" with the workflow's next run, so the two must never disagree.
  const store = bed.h.services.store;
  const update = store.updateIntegration.bind(store);
  let reached!: () => void;
  const settling = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  store.updateIntegration = async (id, patch) => {
    if (patch.status === ('idle' satisfies IntegrationStatus)) {
      reached();
      await released;
    }
    return update(id, patch);
  };
  const t = await bed.start('next-run');
  await t.run(async () => {
    await settling;
    const view = await t.handle.query(statusQuery);
    release();
    expect(view.lastRun).toMatchObject({ outcome: 'completed' });
    expect(view.nextRunAt).not.toBeNull();
  });
});
