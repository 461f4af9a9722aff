import type { Locator, Page } from 'playwright-core';

/**
 * The Temporal UI (2.x, the one the CLI's dev server embeds) as an operator uses it, and the HTTP API it
 * reads histories through. These see payloads as stored; the UI's browser code decodes them through
 * the remote codec it is configured with.
 */

const api = (uiUrl: string, namespace: string) => `${uiUrl}/api/v1/namespaces/${encodeURIComponent(namespace)}`;

/** The run ids of a workflow id, the first run first. */
export async function runIds(uiUrl: string, workflowId: string, namespace = 'default'): Promise<string[]> {
  const query = encodeURIComponent(`WorkflowId="${workflowId}"`);
  const res = await fetch(`${api(uiUrl, namespace)}/workflows?query=${query}`);
  if (!res.ok) throw new Error(`Temporal UI: listing the runs of ${workflowId} answered ${res.status}`);
  const { executions } = (await res.json()) as { executions: { execution: { runId: string }; startTime: string }[] };
  return executions.sort((a, b) => a.startTime.localeCompare(b.startTime)).map((e) => e.execution.runId);
}

/** A run's history as the UI's API serves it: JSON with the payloads as stored (base64). */
export async function storedHistory(uiUrl: string, workflowId: string, runId: string, namespace = 'default'): Promise<string> {
  const res = await fetch(`${api(uiUrl, namespace)}/workflows/${encodeURIComponent(workflowId)}/history?execution.runId=${runId}`);
  if (!res.ok) throw new Error(`Temporal UI: the history of ${workflowId}/${runId} answered ${res.status}`);
  return res.text();
}

/**
 * Opens a run's event history in the compact view (one row per activity) and expands the row of
 * `activityType`'s first execution: its events' inputs and results show in full below it. Answers
 * that row (activity type, attempt and a preview of the result).
 */
export async function expandActivity(page: Page, runUrl: string, activityType: string): Promise<Locator> {
  await page.goto(`${runUrl}/history`);
  await page.getByRole('button', { name: 'Compact' }).click();
  const expand = page.getByRole('button', { name: /^(Expand|Collapse) details$/ });
  const row = page.getByRole('row').filter({ hasText: activityType }).filter({ has: expand }).last();
  await row.getByRole('button', { name: 'Expand details' }).click();
  return row;
}
