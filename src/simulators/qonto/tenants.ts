/**
 * Several organizations in one Qonto simulator, as many customers' integrations behind one egress
 * address see Qonto (the fleet benchmark). Each organization is a `QontoData` of its own; a request
 * finds its organization from its caller (an OAuth token's membership, or an API key), a download
 * from its attachment id. The first organization, `primary`, is what a single-tenant simulator has
 * always been: API keys given at start belong to it, and webhooks are sent for it alone.
 */
import { QontoData, type SimMembership, type SimOrganization } from './data.js';

export class QontoTenants {
  readonly primary: QontoData;
  private readonly tenants: QontoData[];
  private readonly apiKeys = new Map<string, QontoData>();
  // Memberships and attachments are added to a tenant's data directly, so these are caches filled on
  // first look-up, not indexes kept on insert.
  private readonly memberTenant = new Map<string, QontoData>();
  private readonly attachmentTenant = new Map<string, QontoData>();

  constructor(
    private readonly now: () => number,
    organization: Partial<SimOrganization> = {},
  ) {
    this.primary = new QontoData(now, organization);
    this.tenants = [this.primary];
  }

  /** A new organization (give it a distinct slug: transaction ids are made from it). */
  add(organization: Partial<SimOrganization> = {}): QontoData {
    const data = new QontoData(this.now, organization);
    this.tenants.push(data);
    return data;
  }

  /** Makes `login` an API key of `data`'s organization (keys not registered here are the primary's). */
  bindApiKey(login: string, data: QontoData): void {
    this.apiKeys.set(login, data);
  }

  byApiKey(login: string): QontoData {
    return this.apiKeys.get(login) ?? this.primary;
  }

  byMembership(membershipId: string): QontoData | undefined {
    return this.lookUp(this.memberTenant, membershipId, (d) => d.membership(membershipId) !== undefined);
  }

  byAttachment(attachmentId: string): QontoData | undefined {
    return this.lookUp(this.attachmentTenant, attachmentId, (d) => d.attachment(attachmentId) !== undefined);
  }

  membership(id: string): SimMembership | undefined {
    return this.byMembership(id)?.membership(id);
  }

  /** A membership by id or e-mail (case-insensitive), in any organization: an OAuth `login_hint`. */
  memberByHint(hint: string): SimMembership | undefined {
    const byId = this.membership(hint);
    if (byId) return byId;
    const lower = hint.toLowerCase();
    for (const data of this.tenants) {
      const member = data.memberships().find((m) => m.email.toLowerCase() === lower);
      if (member) return member;
    }
    return undefined;
  }

  all(): readonly QontoData[] {
    return this.tenants;
  }

  private lookUp(cache: Map<string, QontoData>, key: string, holds: (d: QontoData) => boolean): QontoData | undefined {
    const cached = cache.get(key);
    if (cached && holds(cached)) return cached;
    const found = this.tenants.find(holds);
    if (found) cache.set(key, found);
    return found;
  }
}
