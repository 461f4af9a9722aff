import { readFileSync } from 'node:fs';

const DASHBOARD = new URL('../../deploy/grafana/dashboards/receipts-sync.json', import.meta.url);

interface Panel {
  title?: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr?: string; datasource?: { uid?: string } }>;
  panels?: Panel[];
}

/** Every panel of the provisioned Grafana dashboard, those inside rows included. */
export function dashboardPanels(): Panel[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Panel[] };
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

/** The metric names the dashboard's PromQL reads (ours and the Temporal SDK's), as written. */
export function dashboardMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const panel of dashboardPanels()) {
    for (const target of panel.targets ?? []) {
      for (const match of (target.expr ?? '').matchAll(/\b(?:receipts_sync|temporal)_[a-z0-9_]+\b/g)) names.add(match[0]);
    }
  }
  return names;
}

/** The family a sample name belongs to: a histogram's `_bucket`, `_sum` and `_count` are its family's. */
export function familyOf(name: string, histograms: Set<string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && histograms.has(base) ? base : name;
}
