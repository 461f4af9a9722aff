import { afterAll, beforeAll, expect, it } from 'vitest';
import { Testbed, sleepingAfter, toMinute } from '../support/testbed.js';

// Its own time-skipping server: the test clock is global to a server, and this test moves it months.
let bed: Testbed;
beforeAll(async () => {
  bed = await Testbed.create();
});
afterAll(() => bed?.close());

// The clock only moves forward: the test starts its integration at whatever time it finds.
it('keeps 23:30 local time across the spring DST change', { timeout: 60_000 }, async () => {
  const now = await bed.env.currentTimeMs();
  const target = Date.parse('2027-03-26T12:00:00Z');
  if (now < target) await bed.env.sleep(target - now);
  const t = await bed.start('dst');
  await t.run(async () => {
    let view = await t.status(sleepingAfter(1), 'the backfill');
    const starts: string[] = [];
    for (let run = 2; run <= 5; run++) {
      await bed.skipToNextRun(view);
      view = await t.status(sleepingAfter(run), `daily run ${run}`);
      starts.push(toMinute(view.lastRun!.startedAt));
    }
    // 23:30 in Paris is 22:30Z in winter time and 21:30Z from 28 March on.
    expect(starts).toEqual(['2027-03-26T22:30', '2027-03-27T22:30', '2027-03-28T21:30', '2027-03-29T21:30']);
  });
});
