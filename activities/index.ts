import { alertActivities } from './alerts.js';
import { AttachmentLinks } from './attachment-links.js';
import type { ActivityDeps } from './deps.js';
import { discoverActivities } from './discover.js';
import { driveReportActivities } from './drive-reports.js';
import { exportActivities } from './export.js';
import { withFailures } from './failures.js';
import { lifecycleActivities } from './lifecycle.js';
import { organizationActivities } from './organization.js';
import { quotaActivities } from './quota.js';
import { verifyActivities } from './verify.js';
import { webhookActivities } from './webhooks.js';

export type { ActivityDeps } from './deps.js';

/** Every activity of the integration workflow, closed over injected dependencies. */
export function createActivities(given: ActivityDeps) {
  const deps = { ...given, attachmentLinks: given.attachmentLinks ?? new AttachmentLinks() };
  return withFailures({
    ...organizationActivities(deps),
    ...discoverActivities(deps),
    ...verifyActivities(deps),
    ...exportActivities(deps),
    ...quotaActivities(deps),
    ...lifecycleActivities(deps),
    ...alertActivities(deps),
    ...driveReportActivities(deps),
    ...webhookActivities(deps),
  });
}

export type SyncActivities = ReturnType<typeof createActivities>;
