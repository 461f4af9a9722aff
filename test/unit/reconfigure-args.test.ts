import { describe, expect, it } from 'vitest';
import { reconfigureProblem } from '../../workflows/reconfigure-args.js';

describe('reconfigureProblem', () => {
  it('accepts the settings a reconfiguration may carry', () => {
    expect(reconfigureProblem({ syncFrom: '2026-01-01', timeZone: 'Europe/Paris', probativeCopies: true })).toBeNull();
    expect(reconfigureProblem({ probativeCopies: false })).toBeNull();
    expect(reconfigureProblem(null)).toBeNull();
  });

  it('names a value the workflow cannot apply', () => {
    expect(reconfigureProblem({ syncFrom: '2026-13-01' })).toMatch(/syncFrom/);
    expect(reconfigureProblem({ timeZone: 'Mars/Olympus' })).toMatch(/IANA/);
    expect(reconfigureProblem({ probativeCopies: 'yes' as unknown as boolean })).toMatch(/probativeCopies "yes" is not true or false/);
  });
});
