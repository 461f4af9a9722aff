import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { apiDeps } from '../../src/api/deps.js';
import { loadConfig } from '../../src/config.js';
import { ADMIN_TOKEN, startHarness, type Harness } from '../support/harness.js';

/** Security headers on a page, an API answer and an error answer; HSTS only behind https. */
let h: Harness;
let client: Client;

beforeAll(async () => {
  h = await startHarness({ demo: { seed: 3, accounts: 1, months: 1, receipts: 1 } });
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});

afterAll(async () => {
  await client?.connection.close();
  await h?.close();
});

const appFor = (publicUrl: string) => createApp(apiDeps(loadConfig({ ...h.env, PUBLIC_URL: publicUrl }), h.services, client));

function csp(res: Response): Map<string, string> {
  const header = res.headers.get('content-security-policy') ?? '';
  return new Map(header.split(';').map((d) => d.trim().split(/\s+(.*)/s).slice(0, 2) as [string, string]).filter(([name]) => name !== ''));
}

describe('security headers', () => {
  const answers = async (publicUrl: string) => {
    const app = appFor(publicUrl);
    return {
      page: await app.request('/', { headers: { accept: 'text/html' } }),
      api: await app.request('/api/integrations', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      error: await app.request('/api/integrations/nope', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
      refused: await app.request('/api/integrations'),
      asset: await app.request('/assets/app.js'),
    };
  };

  it('are on pages, API answers and errors: strict CSP, no framing, nosniff, a referrer policy', async () => {
    const all = await answers('http://localhost:3000');
    expect([all.page.status, all.api.status, all.error.status, all.refused.status, all.asset.status]).toEqual([200, 200, 404, 401, 200]);
    for (const [name, res] of Object.entries(all)) {
      const policy = csp(res);
      expect(policy.get('default-src'), name).toBe("'none'");
      expect(policy.get('script-src'), name).toBe("'self'");
      expect(policy.get('style-src'), name).toBe("'self'");
      expect(policy.get('frame-ancestors'), name).toBe("'none'");
      expect(res.headers.get('x-frame-options'), name).toBe('DENY');
      expect(res.headers.get('x-content-type-options'), name).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), name).toBe('same-origin');
      expect(res.headers.get('strict-transport-security'), name).toBeNull();
    }
  });

  it('the page needs nothing the policy forbids: no inline script or style', async () => {
    const html = await (await appFor('http://localhost:3000').request('/', { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('<script src="/assets/app.js"');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('add HSTS when PUBLIC_URL is https', async () => {
    for (const res of Object.values(await answers('https://receipts.example.com'))) {
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000');
    }
  });
});
