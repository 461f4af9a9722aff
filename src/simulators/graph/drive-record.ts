/** What the simulator keeps per user: the drive tree, its delta tokens and request counters for tests. */
import type { DeltaTokens } from './delta.js';
import type { Drive } from './drive.js';

export interface Counters {
  simpleUploads: number;
  createUploadSession: number;
  /** Fragments fully received (202 or final), not the ones refused or cut off. */
  uploadFragments: number;
  folderCreates: number;
  deletes: number;
  deltaCalls: number;
}

export interface DriveRecord {
  drive: Drive;
  delta: DeltaTokens;
  counters: Counters;
}

export function newCounters(): Counters {
  return { simpleUploads: 0, createUploadSession: 0, uploadFragments: 0, folderCreates: 0, deletes: 0, deltaCalls: 0 };
}
