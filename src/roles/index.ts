import type { Config } from '../config.js';
import { startAllRole } from './all.js';
import { startApiRole } from './api.js';
import type { RoleOptions, RunningRole } from './role.js';
import { startWorkerRole } from './worker.js';

/** ROLE picks what this process does; the configuration check made sure the role has what it needs. */
export function startRole(config: Config, options: RoleOptions = {}): Promise<RunningRole> {
  switch (config.ROLE) {
    case 'api':
      return startApiRole(config);
    case 'worker':
      return startWorkerRole(config, options);
    case 'all':
      return startAllRole(config, options);
  }
}
