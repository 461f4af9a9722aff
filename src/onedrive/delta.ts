/**
 * One page of a delta enumeration of the app folder (docs/contracts-graph.md, Delta). Deleted items come with
 * `deleted: {}` and often no name or size; an expired token answers 410, surfaced as
 * DeltaResyncRequiredError (its `restartLink` is the server's Location, when it sent one).
 */
import { z } from 'zod';
import { driveItemSchema, parseGraph, type DriveItem } from './drive-item.js';
import type { GraphApi } from './graph-client.js';

export { DeltaResyncRequiredError } from './graph-errors.js';

export interface DeltaPage {
  items: DriveItem[];
  /** More pages of this round follow: call it next. */
  nextLink?: string;
  /** The round is complete: keep it for the next round. */
  deltaLink?: string;
}

/** A link from an earlier page, or the start of a full enumeration. */
export type DeltaStart = string | { folder: 'approot' };

const deltaPageSchema = z.looseObject({
  value: z.array(driveItemSchema),
  '@odata.nextLink': z.string().optional(),
  '@odata.deltaLink': z.string().optional(),
});

export async function fetchDeltaPage(graph: GraphApi, start: DeltaStart, signal?: AbortSignal): Promise<DeltaPage> {
  const path = typeof start === 'string' ? start : '/me/drive/special/approot/delta';
  const page = parseGraph(deltaPageSchema, await graph.send(path, (request) => request.get(), signal), 'delta');
  return { items: page.value, nextLink: page['@odata.nextLink'], deltaLink: page['@odata.deltaLink'] };
}
