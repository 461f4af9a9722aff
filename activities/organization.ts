import { accountFolderName } from '../src/sync/naming.js';
import { timeZoneForCountry } from '../src/sync/timezones.js';
import { SHORT_ACTIVITY_LIMITS, type ActivityDeps } from './deps.js';
import type { OrganizationInfo } from './types.js';

export function organizationActivities(deps: ActivityDeps) {
  return {
    /** The organization's bank accounts and the zone the integration runs in. */
    async loadOrganization(input: {
      integrationId: string;
      timeZone: string | null;
      defaultTimeZone: string;
    }): Promise<OrganizationInfo> {
      const org = await deps.qonto(input.integrationId, SHORT_ACTIVITY_LIMITS).getOrganization();
      const timeZone = input.timeZone ?? timeZoneForCountry(org.legal_country, input.defaultTimeZone);
      await deps.store.updateIntegration(input.integrationId, { timeZone });
      return {
        timeZone,
        accounts: org.bank_accounts.map((a) => ({ id: a.id, name: a.name, folderName: accountFolderName({ name: a.name, iban: a.iban }) })),
      };
    },
  };
}
