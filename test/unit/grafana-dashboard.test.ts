import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import '../../src/metrics/http.js';
import '../../src/metrics/runs.js';
import { scrape } from '../../src/metrics/endpoint.js';
import { dashboardMetricNames, dashboardPanels, familyOf } from '../support/dashboard.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('the Grafana dashboard (deploy/grafana)', () => {
  it("reads only series /metrics serves: each of our names is one of the registry's families", async () => {
    const text = await scrape({ perIntegration: true, lastSuccess: async () => [] });
    const families = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    const histograms = new Set([...families].filter(([, type]) => type === 'histogram').map(([name]) => name));
    const ours = [...dashboardMetricNames()].filter((name) => name.startsWith('receipts_sync_'));
    expect(ours.length).toBeGreaterThan(8);
    const unknown = ours.filter((name) => !families.has(familyOf(name, histograms)));
    expect(unknown).toEqual([]);
    // A histogram is read through its buckets, never by its bare family name.
    expect(ours.filter((name) => histograms.has(name))).toEqual([]);
  });

  it('has every panel on the provisioned Prometheus data source, with a query', () => {
    const uid = /uid: (\S+)/.exec(read('deploy/grafana/provisioning/datasources/prometheus.yml'))![1];
    for (const panel of dashboardPanels().filter((p) => p.targets !== undefined)) {
      expect(panel.datasource?.uid, panel.title).toBe(uid);
      for (const target of panel.targets!) {
        expect(target.expr, panel.title).toMatch(/\S/);
        expect(target.datasource?.uid, panel.title).toBe(uid);
      }
    }
  });

  it("is what Grafana's provisioning loads, from where the compose mounts it", () => {
    const compose = read('docker-compose.yml');
    const provider = read('deploy/grafana/provisioning/dashboards/receipts-sync.yml');
    const path = /path: (\S+)/.exec(provider)![1]!;
    expect(compose).toContain(`./deploy/grafana/dashboards:${path}:ro`);
    expect(compose).toContain('./deploy/grafana/provisioning:/etc/grafana/provisioning:ro');
    // Prometheus scrapes the compose's api and worker services on the port they listen on.
    const prometheus = read('deploy/prometheus/prometheus.yml');
    expect(compose).toMatch(/PORT: "3000"/);
    expect(prometheus).toContain('targets: ["api:3000"]');
    expect(prometheus).toMatch(/names: \["worker"\]\s+type: A\s+port: 3000/);
  });
});
